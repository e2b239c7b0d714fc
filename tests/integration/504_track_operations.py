"""txmail-track operations: HTTPS with per-host certificates chosen by SNI
(a customer's CNAME), the operator settings track_expired_click_status
and track_automated_agents (networks), and a broker outage: pixels and
redirects keep answering at once, an unsubscribe answers 503 (never 200
before its event is durable), and every event queued meanwhile is
published when the broker is back."""
import http.client
import socket
import ssl
import subprocess
import uuid

from txtest import *
from txrest import free_port
import txtrack

Q = "t504events"
declare_queue(Q, "txmail.events", "#")
drain(Q)
D = E["TXMAIL_STACK_DIR"]
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"


def start(*opts):
    port = free_port()
    args = ["-o", "track_listen=127.0.0.1:%d" % port, "-o", "metrics_dir="]
    for o in opts:
        args += ["-o", o]
    p = Program("txmail-track", *args, log_name="track-%d" % port)
    return p, port


def up(port, tls_ctx=None):
    def ok():
        try:
            if tls_ctx:
                c = http.client.HTTPSConnection("127.0.0.1", port, context=tls_ctx, timeout=2)
            else:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            return r.status == 200
        except OSError:
            return False
    wait_until(ok, 20, "txmail-track on port %d" % port)


def get(port, path, method="GET", body=None, headers=None, ctx=None, host=None, timeout=30):
    if ctx:
        c = http.client.HTTPSConnection(host or "127.0.0.1", port, context=ctx, timeout=timeout)
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"User-Agent": UA}
    h.update(headers or {})
    t0 = time.time()
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data, time.time() - t0


def events_for(job, n, timeout=30):
    got = []

    def more():
        for _, b in drain(Q, timeout=0.2):
            got.extend(d for d in event_docs(b) if d.get("job") == job)
        return got if len(got) >= n else None
    wait_until(more, timeout, "%d event(s) of job %s" % (n, job))
    return got


job = str(uuid.uuid4())

# ---- HTTPS: the default certificate, and a customer host's by SNI
certs = os.path.join(D, "case-logs", "t504-certs-%d" % os.getpid())
os.makedirs(certs, exist_ok=True)
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=t.customer.test", "-addext", "subjectAltName=DNS:t.customer.test",
                "-keyout", os.path.join(certs, "t.customer.test.key"),
                "-out", os.path.join(certs, "t.customer.test.crt")], check=True, capture_output=True)
tls, tport = start("track_tls=yes", "track_tls_cert_file=%s/tls/cert.pem" % D,
                   "track_tls_key_file=%s/tls/key.pem" % D, "track_tls_cert_dir=" + certs)
ctx = ssl.create_default_context(cafile=os.path.join(D, "tls", "cert.pem"))
up(tport, ctx)


def peer_cn(server_name):
    raw = socket.create_connection(("127.0.0.1", tport), timeout=10)
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    s = c.wrap_socket(raw, server_hostname=server_name)
    der = s.getpeercert(binary_form=True)
    s.close()
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"], input=der,
                         capture_output=True, check=True).stdout.decode()
    return out.strip().split("CN")[-1].strip(" =")


eq(peer_cn("t.customer.test"), "t.customer.test", "SNI t.customer.test gets its own certificate")
eq(peer_cn("T.Customer.Test"), "t.customer.test", "SNI is matched case-insensitively")
eq(peer_cn("localhost"), "localhost", "another name gets the default certificate")
# tokens are bound to the tracking host they were issued for (contract §15.5)
click = txtrack.token("c", job, 0, 0, url="https://shop.example.com/tls", host="localhost")
st, h, _, _ = get(tport, "/t/c/" + click, ctx=ctx, host="localhost")
eq((st, h.get("location")), (302, "https://shop.example.com/tls"), "a redirect over HTTPS, verified by the client")
cctx = ssl.create_default_context(cafile=os.path.join(certs, "t.customer.test.crt"))
s = cctx.wrap_socket(socket.create_connection(("127.0.0.1", tport), timeout=10), server_hostname="t.customer.test")
s.sendall(("GET /t/o/%s.gif HTTP/1.1\r\nHost: t.customer.test\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n"
           % (txtrack.token("o", job, 0, 0, host="t.customer.test"), UA)).encode())
resp = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    resp += chunk
s.close()
check(resp.startswith(b"HTTP/1.1 200 ") and resp.endswith(base64.b64decode(
    "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")),
      "the pixel over HTTPS on the customer's host, verified with its certificate")
events_for(job, 2)
tls.stop()

# ---- operator settings
op, oport = start("track_expired_click_status=410", "track_automated_agents=127.0.0.0/8, SomeScanner")
up(oport)
st, h, _, _ = get(oport, "/t/c/" + txtrack.token("c", job, 0, 0, url="https://old.example/", expiry=int(time.time()) - 5))
eq((st, h.get("location")), (410, None), "expired click with track_expired_click_status = 410")
click = txtrack.token("c", job, 0, 0, url="https://shop.example.com/tls")
get(oport, "/t/c/" + click)
ev = events_for(job, 1)[0]
eq(ev["content"]["tracking"]["automated"], True, "a listed network makes a browser's click automated")
click2 = txtrack.token("c", job, 0, 0, url="https://shop.example.com/tls2")
st, _, _, _ = get(oport, "/t/c/" + click2, headers={"User-Agent": "Mozilla/5.0 somescanner/2"})
events_for(job, 1)
op.stop()
eq(op.proc.returncode, 0, "SIGTERM: clean exit")

# ---- broker outage
bo, bport = start("track_unsubscribe_timeout=1s", "track_stop_timeout=5s")
up(bport)
wait_until(lambda: json.loads(get(bport, "/health")[2])["broker"] == "connected", 20, "connected")
job2 = str(uuid.uuid4())
stack("stop-broker")
try:
    wait_until(lambda: json.loads(get(bport, "/health")[2])["broker"] == "disconnected", 30,
               "the broker loss noticed")
    st, _, _, t_open = get(bport, "/t/o/%s.gif" % txtrack.token("o", job2, 1, 2))
    check(st == 200 and t_open < 0.5, "pixel answered at once without a broker (%.3fs)" % t_open)
    st, h, _, t_click = get(bport, "/t/c/" + txtrack.token("c", job2, 1, 2, url="https://during.example/"))
    check(st == 302 and h.get("location") == "https://during.example/" and t_click < 0.5,
          "redirect answered at once without a broker (%.3fs)" % t_click)
    st, h, _, t_uns = get(bport, "/t/u/" + txtrack.token("u", job2, 1, 2), "POST", b"List-Unsubscribe=One-Click",
                          {"Content-Type": "application/x-www-form-urlencoded"})
    eq((st, h.get("retry-after")), (503, "60"), "unsubscribe without a broker: 503, try again")
    check(0.9 < t_uns < 5, "it waited for the confirm timeout (%.2fs)" % t_uns)
    for i in (3, 4):
        eq(get(bport, "/t/o/%s.gif" % txtrack.token("o", job2, 1, i))[0], 200, "another pixel (%d)" % i)
    eq(json.loads(get(bport, "/health")[2])["queued"], 5, "five events held")
finally:
    stack("start-broker")
msgs = []
wait_until(lambda: msgs.extend(m for m in drain(Q, timeout=0.2)
                               if any(d.get("job") == job2 for d in event_docs(m[1]))) or
           sum(len(event_docs(b)) for _, b in msgs) >= 5, 60, "the five held events")
evs = [d for _, b in msgs for d in event_docs(b)]
eq(sorted(e["type"] for e in evs), ["CLICKED", "OPENED", "OPENED", "OPENED", "UNSUBSCRIBED"],
   "everything queued during the outage is published when the broker is back")
packed = [json.loads(b) for _, b in msgs if isinstance(json.loads(b), list)]
check(len(packed) >= 1 and all(len({d["type"] for d in a}) == 1 for a in packed),
      "events held together go out packed by type (JSON arrays): %r" % [[d["type"] for d in a] for a in packed])
check(any({"%s#%08x#%08x" % (job2, 1, i) for i in (3, 4)} <= {d["rid"] for d in a} for a in packed),
      "the two opens queued behind the batch in hand share one message")
st, _, _, _ = get(bport, "/t/u/" + txtrack.token("u", job2, 1, 2), "POST", b"List-Unsubscribe=One-Click",
                  {"Content-Type": "application/x-www-form-urlencoded"})
eq(st, 200, "the retried unsubscribe succeeds")
ev = events_for(job2, 1)[0]
eq(ev["tag"], [e for e in evs if e["type"] == "UNSUBSCRIBED"][0]["tag"], "and is the same event (same tag)")
check("track-publish: " in bo.log_text() or "broker" in bo.log_text(), "the outage is logged")
bo.stop()
done()
