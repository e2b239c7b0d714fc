"""txrest - helpers for the txmail-rest integration cases (tests/integration/1xx).

Jobs published by txmail-rest go to txmail.work with the first stage of their
slip as key. The cases bind their own quorum queues to those keys (t_rest_render,
t_rest_scan) so they see every job even when a render worker consumes the
stage's own queue.
"""
import base64
import copy
import http.client
import json
import os
import socket
import ssl
import time
import urllib.parse

from txopenapi import check_answer
from txtest import E, Program, declare_queue, drain, fail, parse_envelope, resolve_raw, sample, sql, uniq, wait_until

JOBS = "/email/v2/jobs"
RENDER_Q = "t_rest_render"
SCAN_Q = "t_rest_scan"


def setup_queues():
    declare_queue(RENDER_Q, "txmail.work", "render")
    declare_queue(SCAN_Q, "txmail.work", "scan")
    drain(RENDER_Q, timeout=0.2)
    drain(SCAN_Q, timeout=0.2)


def jobs_in(queue, timeout=0.3, account=None):
    """Every job envelope txmail-rest published that is now in queue (of
    account, when given: other cases' jobs that arrive late are left out):
    dict job id -> (envelope, count). Copies a stage put back through a delay
    queue (the first stage waiting for the acceptance record; they carry
    "due") come back with the same routing key and are not counted. Raw
    segments are resolved (txtest.resolve_raw)."""
    out = {}
    for _, body in drain(queue, timeout=timeout):
        env, raw = parse_envelope(body)
        resolve_raw(env, raw)
        if env.get("due") or (account is not None and env.get("account") != account):
            continue
        prev = out.get(env["job"])
        out[env["job"]] = (env, (prev[1] if prev else 0) + 1)
    return out


def base_request(domain="example.com", to="to@example.org"):
    return {
        "subject": {"content": "hello"},
        "recipients": [{"mail": {"to": [{"email": to}]}}],
        "mail": {"from": {"email": "Sender <sender@%s>" % domain}},
    }


def auth_header(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class Client:
    """One persistent HTTP(S) connection to a txmail-rest listener."""

    def __init__(self, base=None, user=None, password=None, timeout=60, source=None):
        self.base = base or E["TXMAIL_REST_HTTP_URL"]
        self.source = (source, 0) if source else None
        self.user = user if user is not None else E["TXMAIL_DEMO_USER"]
        self.password = password if password is not None else E["TXMAIL_DEMO_PASSWORD"]
        self.timeout = timeout
        self.conn = None

    def _connect(self):
        u = urllib.parse.urlsplit(self.base)
        if u.scheme == "https":
            ctx = ssl.create_default_context(cafile=E.get("TXMAIL_TLS_CA"))
            self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=self.timeout,
                                                    source_address=self.source)
        else:
            self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=self.timeout, source_address=self.source)

    def request(self, method, path, body=None, headers=None, auth=True, raw=None, content_type="application/json"):
        """Returns (status, headers (lowercase keys), body bytes, parsed JSON or None)."""
        h = {}
        if auth:
            h["Authorization"] = auth_header(self.user, self.password)
        if raw is None and body is not None:
            raw = json.dumps(body).encode()
        if raw is not None and content_type:
            h["Content-Type"] = content_type
        h.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=raw, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                break
            except (ConnectionError, http.client.HTTPException, socket.timeout):
                self.close()
                if attempt:
                    raise
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        check_answer(method, path, r.status, hdrs, data)
        if hdrs.get("connection", "").lower() == "close":
            self.close()
        parsed = None
        try:
            parsed = json.loads(data) if data[:1] == b"{" else None
        except ValueError:
            parsed = None
        return r.status, hdrs, data, parsed

    def post(self, body=None, **kw):
        return self.request("POST", JOBS, body=body, **kw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def expect_reject(got, status, subtype, description=None, what=""):
    """got: (status, headers, body, parsed). Checks the §6.1 rejection shape."""
    st, hdrs, data, doc = got
    label = what or description or subtype
    if st != status:
        fail("%s: status %r, expected %r (body %s)" % (label, st, status, data[:300]))
    if doc is None:
        fail("%s: answer is not JSON: %r" % (label, data[:200]))
    meta = doc.get("meta", {})
    state = meta.get("state", {})
    if state.get("type") != "REJECTED" or state.get("subType") != subtype or state.get("phase") != "PRE_PROCESS":
        fail("%s: state %r, expected REJECTED/%s/PRE_PROCESS" % (label, state, subtype))
    if description is not None and state.get("description") != description:
        fail("%s: description %r, expected %r" % (label, state.get("description"), description))
    if not is_uuid(meta.get("jobId", "")):
        fail("%s: jobId %r is not a UUID" % (label, meta.get("jobId")))
    if set(doc) != {"meta"} or "receivedTs" in meta:
        fail("%s: a rejection has no content and no receivedTs: %r" % (label, doc))
    if not hdrs.get("content-type", "").startswith("application/json"):
        fail("%s: Content-Type %r" % (label, hdrs.get("content-type")))
    return doc


def is_uuid(s):
    import re
    return re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", s or "") is not None


def is_ts(s):
    import re
    return re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s or "") is not None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PrivateRest:
    """A txmail-rest of the test's own on a free loopback port (plain HTTP),
    with extra -o overrides (e.g. rest_stages, rest_read_timeout)."""

    def __init__(self, verbose=False, **overrides):
        self.port = free_port()
        args = (["-v"] if verbose else []) + ["-o", "rest_listen=", "-o", "rest_plain_listen=127.0.0.1:%d" % self.port]
        for k, v in overrides.items():
            args += ["-o", "%s=%s" % (k, v)]
        self.prog = Program("txmail-rest", *args, log_name="rest-private-%d" % self.port)
        self.url = "http://127.0.0.1:%d" % self.port

        def up():
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                ok = c.getresponse().status == 200
                c.close()
                return ok
            except OSError:
                return False
        wait_until(up, 20, "private txmail-rest on port %d" % self.port)

    def client(self, **kw):
        return Client(base=self.url, **kw)

    def stop(self):
        return self.prog.stop()


def raw_http(port, data, read_timeout=10.0, host="127.0.0.1"):
    """Send raw bytes, return everything read until the peer closes (or timeout)."""
    s = socket.create_connection((host, port), timeout=read_timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def rest_port():
    return int(urllib.parse.urlsplit(E["TXMAIL_REST_HTTP_URL"]).port)


def job_row(job_id):
    rows = sql("SELECT job_id, http_status, answer, slip, recipients, idem_key, notification FROM job WHERE job_id=%s", job_id)
    return rows[0] if rows else None


def deep(d):
    return copy.deepcopy(d)
