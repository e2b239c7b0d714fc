"""txmail-rest transport limits (contract §3.1, §4.1, §4.12): a body over
20 MB is refused with 413 as soon as its size is known - from Content-Length
without reading it, or while reading a chunked body - a body of exactly
20,971,520 bytes is accepted; requests whose headers and body do not arrive
within the read timeout are dropped without an answer and create nothing."""
import ssl

from txtest import *
from txrest import *

setup_queues()
A = new_account(domain="transport.example.com")
LIMIT = 20971520
AUTH = auth_header(A["user"], A["password"]).encode()
port = rest_port()
small = json.dumps(base_request("transport.example.com")).encode()


def head(extra, te=None, cl=None):
    h = b"POST " + JOBS.encode() + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAuthorization: " + AUTH + b"\r\n"
    if cl is not None:
        h += b"Content-Length: %d\r\n" % cl
    if te:
        h += b"Transfer-Encoding: chunked\r\n"
    return h + extra + b"\r\n"


def status_of(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1 ") else None


def body_of(resp):
    return json.loads(resp.split(b"\r\n\r\n", 1)[1])


# ---------------------------------------------------------------- Content-Length over the limit: no body read
t0 = time.time()
resp = raw_http(port, head(b"", cl=LIMIT + 1), read_timeout=5)
eq(status_of(resp), 413, "Content-Length of 20 MB + 1: 413 before any body byte was sent")
check(time.time() - t0 < 2, "answered at once (%.2f s)" % (time.time() - t0))
doc = body_of(resp)
eq((doc["meta"]["state"]["subType"], doc["meta"]["state"]["description"]), ("LIMIT_EXCEEDED", "Request body size limit exceeded"),
   "413 LIMIT_EXCEEDED Request body size limit exceeded")
resp = raw_http(port, head(b"Expect: 100-continue\r\n", cl=21 * 1024 * 1024), read_timeout=5)
eq(status_of(resp), 413, "with Expect: 100-continue: 413 and no 100 Continue")
# wrong credentials come first (§6.3)
resp = raw_http(port, head(b"", cl=LIMIT + 1).replace(AUTH, b"Basic eDp5"), read_timeout=5)
eq(status_of(resp), 401, "401 before 413")

# ---------------------------------------------------------------- exactly 20,971,520 bytes: accepted
pad = LIMIT - len(small)
body = small[:-1] + b" " * pad + b"}"
eq(len(body), LIMIT, "body of exactly the limit")
st, _, _, doc = Client(user=A["user"], password=A["password"]).post(raw=body)
eq(st, 200, "a body of exactly 20,971,520 bytes is accepted")
job_ok = doc["meta"]["jobId"]

# ---------------------------------------------------------------- a large attachment arrives intact
raw = os.urandom(300 * 1024)
b64 = base64.b64encode(raw).decode()
req = base_request("transport.example.com")
req["attachments"] = [{"name": "big.bin", "contentType": "application/octet-stream",
                       "content": "\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))},
                      {"name": "small.txt", "contentType": "text/plain", "content": "aGk="}]
text = json.dumps(req).replace("/", "\\/")      # some encoders escape every slash
st, _, _, doc = Client(user=A["user"], password=A["password"]).post(raw=text.encode())
eq(st, 200, "300 KB attachment with line breaks and escaped slashes: accepted")
job_big = doc["meta"]["jobId"]
seen = jobs_in(RENDER_Q, account=A["id"])
eq(sorted(seen), sorted([job_ok, job_big]), "the 20 MB job and the large attachment job are in the broker")
env = seen[job_big][0]
eq(base64.b64decode(env["data"]["attachments"][0]["data"]) == raw, True, "the attachment arrives byte for byte")
eq(env["data"]["attachments"][0]["data"], b64, "as base64 without line breaks")
eq(env["data"]["attachments"][1]["data"], "aGk=", "the small one too")
bad = dict(req)
bad["attachments"] = [dict(req["attachments"][0], content=b64[:5000] + "*" + b64[5001:])]
expect_reject(Client(user=A["user"], password=A["password"]).post(bad), 400, "INVALID_FORMAT",
              "Invalid format for attachments[0].content", "a bad character inside a large attachment")

# ---------------------------------------------------------------- chunked: refused while reading
def chunked_over(sock_wrap=None):
    s = socket.create_connection(("127.0.0.1", port if sock_wrap is None else int(E["TXMAIL_REST_URL"].rsplit(":", 1)[1])), timeout=10)
    if sock_wrap:
        s = sock_wrap(s)
    s.sendall(head(b"", te=True))
    chunk = b"%x\r\n" % (1 << 20) + b" " * (1 << 20) + b"\r\n"
    sent = 0
    try:
        for _ in range(20):
            s.sendall(chunk)
            sent += 1 << 20
        s.sendall(b"1\r\n ")     # the byte past the limit
        sent += 1
    except OSError:
        pass
    resp = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            resp += d
    except OSError:
        pass
    s.close()
    return resp


resp = chunked_over()
eq(status_of(resp), 413, "chunked body over the limit: 413 while reading")
eq(body_of(resp)["meta"]["state"]["description"], "Request body size limit exceeded", "chunked 413 description")
ctx = ssl.create_default_context(cafile=E["TXMAIL_TLS_CA"])
resp = chunked_over(lambda s: ctx.wrap_socket(s, server_hostname="localhost"))
eq(status_of(resp), 413, "the same over HTTPS")
chunked_ok = small
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(head(b"", te=True) + b"%x\r\n" % len(chunked_ok) + chunked_ok + b"\r\n0\r\n\r\n")
resp = b""
while b"\r\n\r\n" not in resp or len(resp.split(b"\r\n\r\n", 1)[1]) < 20:
    resp += s.recv(65536)
s.close()
eq(status_of(resp), 200, "a small chunked body is accepted")
job_chunked = body_of(resp)["meta"]["jobId"]

# ---------------------------------------------------------------- read timeout (a private instance with 2 s)
priv = PrivateRest(rest_read_timeout="2s")
before = sql("SELECT COUNT(*) FROM job WHERE account_id=%s", A["id"])[0][0]


def dropped(what, send_steps):
    s = socket.create_connection(("127.0.0.1", priv.port), timeout=15)
    t0 = time.time()
    got = b""
    try:
        for data, pause in send_steps:
            s.sendall(data)
            time.sleep(pause)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except OSError:
        pass
    s.close()
    el = time.time() - t0
    eq(got, b"", what + ": closed without an answer")
    check(1.5 <= el <= 8, what + ": after about the read timeout (%.1f s)" % el)


hdr = head(b"", cl=len(small)).replace(b"Host: t", b"Host: p")
dropped("stalled body", [(hdr + small[:10], 0)])
dropped("body trickling in", [(hdr, 0)] + [(small[i:i + 1], 0.4) for i in range(7)])
dropped("headers trickling in", [(hdr[:30], 0)] + [(hdr[30 + i:31 + i], 0.3) for i in range(8)] + [(hdr[38:] + small, 0)])
eq(sql("SELECT COUNT(*) FROM job WHERE account_id=%s", A["id"])[0][0], before, "dropped requests created nothing")
eq(sorted(jobs_in(RENDER_Q, 0.5, A["id"])), [job_chunked], "nothing else reached the broker")
priv.stop()
done()
