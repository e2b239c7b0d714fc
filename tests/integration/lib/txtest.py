"""txtest - helpers for txmail integration cases.

Every case is a standalone script run by tests/run-integration against the
real stack (RabbitMQ, MariaDB, dnsmasq, the SMTP sink, txmail programs);
`txmail-stack env` is in the environment. A case exits 0 when every check
passed; a failed check prints what was expected and what was seen, and
exits 1.
"""
import base64
import glob
import http.client
import http.server
import json
import os
import random
import socket
import ssl
import string
import subprocess
import sys
import threading
import time
import urllib.parse

import txopenapi

E = os.environ
REPO = E.get("TXMAIL_REPO", os.path.abspath(os.path.join(os.path.dirname(__file__), "../../..")))
BIN = E.get("TXMAIL_BIN", os.path.join(REPO, "build", "bin"))
CONF = E.get("TXMAIL_CONF", "")
SAMPLES = os.path.join(REPO, "tests", "fixtures", "samples")   # a copy of ../shared/api/samples

_checks = 0


def log(*a):
    print(*a, flush=True)


def fail(msg):
    log("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    global _checks
    _checks += 1
    if not cond:
        fail(msg)
    log("ok - " + msg)


def eq(got, want, what):
    global _checks
    _checks += 1
    if got != want:
        fail("%s:\n    got:      %r\n    expected: %r" % (what, got, want))
    log("ok - %s == %r" % (what, want if len(repr(want)) < 120 else repr(want)[:117] + "..."))


def done():
    log("%d checks passed" % _checks)
    sys.exit(0)


def wait_until(fn, timeout=30.0, what="condition", interval=0.1):
    """Call fn until it returns a truthy value; fail after timeout seconds."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
        except Exception as e:  # noqa: BLE001 - report the last error on timeout
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    fail("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))


def uniq(prefix="t"):
    return prefix + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(10))


# ------------------------------------------------------------------ processes

def ctl(*args, check_rc=True, stdin=None):
    """Run txmailctl with the stack configuration; returns (rc, stdout, stderr)."""
    p = subprocess.run([os.path.join(BIN, "txmailctl"), "-c", CONF] + list(args),
                       input=stdin, capture_output=True, text=True, timeout=120)
    if check_rc and p.returncode != 0:
        fail("txmailctl %s failed (%d): %s %s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


class Program:
    """A txmail program started by a test, stopped by stop() or at exit."""

    def __init__(self, binary, *args, log_name=None, env=None):
        self.log_path = os.path.join(E.get("TXMAIL_STACK_DIR", "/tmp"), "case-logs",
                                     (log_name or os.path.basename(binary)) + "-%d.log" % os.getpid())
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self.logf = open(self.log_path, "ab")
        path = binary if "/" in binary else os.path.join(BIN, binary)
        cmd = [path, "-c", CONF] + list(args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT, env=full_env)
        _programs.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=15, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill9(self):
        return self.stop(9)

    def log_text(self):
        self.logf.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


_programs = []


def _cleanup():
    for p in _programs:
        try:
            p.stop(timeout=10)
        except Exception:  # noqa: BLE001
            pass


import atexit  # noqa: E402

atexit.register(_cleanup)


def instead_of_stack(program, *args, log_name=None):
    """Stop the stack's first instance of txmail-<program> (its supervisor,
    then wait until the child is gone) and run txmail-<program> with args
    in its place, for a case that needs other parameters. At exit the own
    program stops and the stack's programs come up again. Returns the
    Program."""
    d = E["TXMAIL_STACK_DIR"]
    sup = int(open("%s/run/%s-1.pid" % (d, program)).read())
    child = int(open("%s/log/%s-1.log.pid" % (d, program)).read())
    os.kill(sup, 15)
    wait_until(lambda: not os.path.exists("/proc/%d" % child), 30, "the stack's %s stopped" % program)
    own = Program("txmail-" + program, *args, log_name=log_name)

    def restore():
        own.stop()
        stack("programs-up")

    atexit.register(restore)
    return own


def serve_tcp(handle, host="127.0.0.1", backlog=16):
    """A listening TCP socket on host (an ephemeral port) whose accepted
    connections each run handle(conn) in a thread of their own. Returns
    (socket, port); closing the socket ends the accept thread."""
    srv = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen(backlog)

    def accept():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return srv, srv.getsockname()[1]


def stack(*args):
    p = subprocess.run([os.path.join(REPO, "scripts", "txmail-stack")] + list(args),
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        fail("txmail-stack %s failed: %s %s" % (" ".join(args), p.stdout, p.stderr))
    return p.stdout


# ------------------------------------------------------------------ database

def db():
    import pymysql
    return pymysql.connect(unix_socket=E["TXMAIL_DB_SOCKET"], user=E["TXMAIL_DB_USER"],
                           password=E["TXMAIL_DB_PASSWORD"], database=E["TXMAIL_DB_NAME"],
                           autocommit=True, charset="utf8mb4")


def sql(query, *params):
    """Run one statement; returns all rows (tuples)."""
    c = db()
    try:
        with c.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()
    finally:
        c.close()


# ------------------------------------------------------------------ broker

def amqp():
    import pika
    return pika.BlockingConnection(pika.URLParameters(E["TXMAIL_AMQP_URL"].rstrip("/") + "/%2F"))


def queue_count(name):
    c = amqp()
    try:
        ch = c.channel()
        return ch.queue_declare(name, passive=True).method.message_count
    finally:
        c.close()


def declare_queue(name, bind_exchange=None, key=None, quorum=True):
    c = amqp()
    try:
        ch = c.channel()
        ch.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"} if quorum else None)
        if bind_exchange:
            ch.queue_bind(name, bind_exchange, routing_key=key if key is not None else name)
    finally:
        c.close()


def drain(name, max_n=100000, timeout=0.5):
    """Get (and ack) every message now in a queue: list of (properties, body)."""
    c = amqp()
    out = []
    try:
        ch = c.channel()
        end = time.time() + timeout
        while len(out) < max_n:
            m, props, body = ch.basic_get(name, auto_ack=True)
            if m is None:
                if time.time() > end:
                    break
                time.sleep(0.05)
                continue
            out.append((props, body))
    finally:
        c.close()
    return out


def event_docs(body):
    """The events of one message on txmail.events: a JSON array of events
    (several packed into one message) or one event."""
    d = json.loads(body)
    return d if isinstance(d, list) else [d]


def publish(exchange, key, body, headers=None):
    import pika
    c = amqp()
    try:
        ch = c.channel()
        ch.confirm_delivery()
        ch.basic_publish(exchange, key, body, pika.BasicProperties(delivery_mode=2, headers=headers),
                         mandatory=True)
    finally:
        c.close()


def envelope(job_id, slip, data, typ="job", rid="", account=1, attempt=0, raw=b"", created=None):
    """Build a broker message in txmail's envelope format."""
    e = {"v": 1, "type": typ, "job": job_id, "account": account, "slip": slip, "attempt": attempt,
         "deferrals": 0, "created": created if created is not None else int(time.time() * 1000),
         "data": data, "raw_len": len(raw)}
    if rid:
        e["rid"] = rid
    return json.dumps(e, separators=(",", ":")).encode() + b"\n" + raw


def parse_envelope(body):
    nl = body.index(b"\n")
    return json.loads(body[:nl]), body[nl + 1:]


def resolve_raw(env, raw):
    """Put the raw segments of a REST job back in place (docs/ENVELOPES.md,
    "raw segments"): attachments' "raw" -> "data", parts' "textRaw" -> "text".
    Returns env (changed in place)."""
    d = env.get("data", {})
    for a in d.get("attachments") or []:
        if "raw" in a:
            off, n = a.pop("raw")
            a["data"] = raw[off:off + n].decode()
    for part in ("body", "alternative"):
        p = d.get(part)
        if isinstance(p, dict) and "textRaw" in p:
            off, n = p.pop("textRaw")
            p["text"] = raw[off:off + n].decode()
    return env


# ------------------------------------------------------------------ REST

def rest(method, path, body=None, headers=None, auth="demo", base=None, timeout=60, raw_body=None):
    """HTTP(S) request to txmail-rest. auth: "demo", (user, password) or None.
    Returns (status, headers dict (lowercase), body bytes, parsed JSON or None).
    The answer of a request under the API base path is checked against
    docs/openapi.json (txopenapi.check_answer: a violation fails the case;
    `with txopenapi.unchecked():` for answers provoked on purpose)."""
    base = base or E.get("TXMAIL_REST_URL")
    u = urllib.parse.urlsplit(base)
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=E.get("TXMAIL_TLS_CA"))
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    h = {}
    if auth == "demo":
        auth = (E["TXMAIL_DEMO_USER"], E["TXMAIL_DEMO_PASSWORD"])
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
    if body is not None and raw_body is None:
        raw_body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn.request(method, path, body=raw_body, headers=h)
    r = conn.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    txopenapi.check_answer(method, path, r.status, hdrs, data)
    parsed = None
    if data[:1] in (b"{", b"["):
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
    return r.status, hdrs, data, parsed


def sample(name):
    with open(os.path.join(SAMPLES, name), "rb") as f:
        data = f.read()
    return json.loads(data) if name.endswith(".json") else data


# ------------------------------------------------------------------ sink

def sink_dir(plain=False):
    return E["TXMAIL_SINK_PLAIN_DIR" if plain else "TXMAIL_SINK_DIR"]


def sink_messages(plain=False):
    """Every message at the sink: list of (meta dict, raw bytes), oldest first."""
    out = []
    for meta_path in sorted(glob.glob(os.path.join(sink_dir(plain), "*.json"))):
        eml = meta_path[:-5] + ".eml"
        if not os.path.exists(eml):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        with open(eml, "rb") as f:
            raw = f.read()
        meta["path"] = eml
        out.append((meta, raw))
    return out


def sink_for(rcpt, plain=False):
    """Messages at the sink whose envelope recipient is rcpt (case-insensitive)."""
    return [(m, r) for m, r in sink_messages(plain) if rcpt.lower() in [x.lower() for x in m["rcptTo"]]]


def sink_wait(rcpt, count=1, timeout=60, plain=False):
    return wait_until(lambda: (lambda l: l if len(l) >= count else None)(sink_for(rcpt, plain)),
                      timeout, "%d message(s) for %s at the sink" % (count, rcpt))


# ------------------------------------------------------------------ DKIM

def dns_resolver():
    import dns.resolver
    r = dns.resolver.Resolver(configure=False)
    host, port = E["TXMAIL_DNS"].split(":")
    r.nameservers = [host]
    r.port = int(port)
    r.lifetime = 5
    return r


def dkim_verify(raw):
    """Verify every DKIM signature of raw with dkimpy against the test DNS."""
    import dkim
    res = dns_resolver()

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        try:
            ans = res.resolve(name.rstrip("."), "TXT")
        except Exception:  # noqa: BLE001
            return b""
        return b"".join(b"".join(r.strings) for r in ans)

    d = dkim.DKIM(raw)
    sigs = [h for h in d.headers if h[0].lower() == b"dkim-signature"]
    if not sigs:
        return False
    return all(d.verify(idx=i, dnsfunc=dnsfunc) for i in range(len(sigs)))


# ------------------------------------------------------------------ webhooks

class WebhookReceiver:
    """A small HTTP server recording every POST. status_fn(request_index) -> HTTP status."""

    def __init__(self, port=0, status_fn=None, delay=0.0, host="127.0.0.1", location=None):
        self.requests = []
        self.connections = 0
        self.lock = threading.Lock()
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with recv.lock:
                    idx = len(recv.requests)
                    recv.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                          "body": body, "ts": time.time()})
                if delay:
                    time.sleep(delay)
                status = status_fn(idx) if status_fn else 200
                payload = b"{}"
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Server(http.server.ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

            def get_request(self):
                r = super().get_request()
                with recv.lock:
                    recv.connections += 1
                return r

        self.server = Server((host, port), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://%s:%d/hook" % ("[%s]" % host if ":" in host else host, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def notifications(self):
        """Every notification element received, with its POST's top-level meta."""
        out = []
        with self.lock:
            reqs = list(self.requests)
        for r in reqs:
            try:
                doc = json.loads(r["body"])
            except ValueError:
                continue
            for n in doc.get("notifications", []):
                out.append((doc.get("meta", {}), n, r))
        return out


# ------------------------------------------------------------------ accounts

def new_account(settings=None, domain=None, allow_ip=None, notify_url=None, selector="s1"):
    """Create an isolated account with a credential and a sender domain.
    Accounts sharing a domain (example.com) need a selector each: one TXT
    record per key.
    Returns dict(name, user, password, domain, id)."""
    name = uniq("acct")
    args = ["account", "add", name, "--customer-no", "4711"]
    if settings is not None:
        args += ["--settings", json.dumps(settings)]
    if notify_url:
        args += ["--notify-url", notify_url]
    _, out, _ = ctl(*args)
    secret = out.strip().split()[-1]
    password = uniq("pw")
    cargs = ["credential", "add", name, name, "--password-file", "-"]
    if allow_ip:
        cargs += ["--allow-ip", allow_ip]
    ctl(*cargs, stdin=password + "\n")
    domain = domain or (name + ".test")
    ctl("domain", "add", name, domain, "--selector", selector)
    aid = sql("SELECT id FROM account WHERE name=%s", name)[0][0]
    return {"name": name, "user": name, "password": password, "domain": domain, "id": aid,
            "webhook_secret": secret}
