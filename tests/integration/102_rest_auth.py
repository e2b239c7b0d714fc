"""txmail-rest: authentication (contract §3.2) - missing, wrong and malformed
credentials, disabled credentials, the source-IP allow-list (X-Real-IP only
from a trusted proxy), foreign sender domains; HTTPS; per-account rate and
concurrency limits (429); /health, /metrics, unknown paths and methods."""

from txtest import *
from txrest import *

setup_queues()
A = new_account(domain="auth-a.example.com")
B = new_account(domain="auth-b.example.com")
reqA = base_request("auth-a.example.com")
WWW = 'Basic realm="txmail"'

# ---------------------------------------------------------------- 401
first = None
for what, client, headers in [
    ("no credentials", Client(), None),
    ("wrong password", Client(user=A["user"], password="wrong-password"), None),
    ("unknown user", Client(user="nobody-" + uniq(), password="whatever1"), None),
    ("empty user", Client(user="", password="x"), None),
]:
    got = client.request("POST", JOBS, body=reqA, headers=headers, auth=what != "no credentials")
    doc = expect_reject(got, 401, "UNAUTHORIZED", "Unauthorized", what)
    eq(got[1].get("www-authenticate"), WWW, what + ": WWW-Authenticate")
    body = dict(doc["meta"]["state"])
    first = first or body
    eq(body, first, what + ": the same answer as every other credential failure")
for what, value in [("Bearer scheme", "Bearer abc"), ("not base64", "Basic !!!"), ("no colon", "Basic " + base64.b64encode(b"useronly").decode()),
                    ("empty", "Basic ")]:
    got = Client().request("POST", JOBS, body=reqA, headers={"Authorization": value}, auth=False)
    expect_reject(got, 401, "UNAUTHORIZED", "Unauthorized", what)
ca = Client(user=A["user"], password=A["password"])
st, _, _, doc = ca.post(reqA)
eq(st, 200, "right credentials: 200")

# ---------------------------------------------------------------- disabled credential / account
sql("UPDATE credential SET disabled=1 WHERE username=%s", A["user"])
# verified credentials are cached for 60 s, but the account and credential row are read on every request
expect_reject(Client(user=A["user"], password=A["password"]).post(reqA), 401, "UNAUTHORIZED", "Unauthorized", "disabled credential")
sql("UPDATE credential SET disabled=0 WHERE username=%s", A["user"])
sql("UPDATE account SET disabled=1 WHERE id=%s", A["id"])
expect_reject(Client(user=A["user"], password=A["password"]).post(reqA), 401, "UNAUTHORIZED", "Unauthorized", "disabled account")
sql("UPDATE account SET disabled=0 WHERE id=%s", A["id"])

# ---------------------------------------------------------------- source-IP allow-list
ipacct = new_account(domain="auth-ip.example.com", allow_ip="127.0.0.2,::1")
reqI = base_request("auth-ip.example.com")
ok = Client(user=ipacct["user"], password=ipacct["password"], source="127.0.0.2")
eq(ok.post(reqI)[0], 200, "allowed source address 127.0.0.2: 200")
bad = Client(user=ipacct["user"], password=ipacct["password"], source="127.0.0.1")
doc = expect_reject(bad.post(reqI), 401, "UNAUTHORIZED", "Unauthorized", "address not on the allow-list")
eq(dict(doc["meta"]["state"]), first, "not-allowed source answers exactly like wrong credentials")
expect_reject(bad.post(reqI, headers={"X-Real-IP": "127.0.0.2"}), 401, "UNAUTHORIZED", "Unauthorized",
              "X-Real-IP from an untrusted peer is ignored")
proxy = PrivateRest(rest_trusted_proxies="127.0.0.1")
pc = proxy.client(user=ipacct["user"], password=ipacct["password"])
eq(pc.post(reqI, headers={"X-Real-IP": "127.0.0.2"})[0], 200, "X-Real-IP from a trusted proxy is the client address")
expect_reject(pc.post(reqI), 401, "UNAUTHORIZED", "Unauthorized", "trusted proxy without X-Real-IP: the proxy's own address")
expect_reject(pc.post(reqI, headers={"X-Real-IP": "127.0.0.9"}), 401, "UNAUTHORIZED", "Unauthorized",
              "trusted proxy, client not on the allow-list")
proxy.stop()

# ---------------------------------------------------------------- foreign sender domain
expect_reject(ca.post(base_request("auth-b.example.com")), 403, "FORBIDDEN_SENDER", "Unsupported value for mail.from.email",
              "sender domain of another account")
expect_reject(Client(user=B["user"], password=B["password"]).post(reqA), 403, "FORBIDDEN_SENDER",
              "Unsupported value for mail.from.email", "and the other way round")

# ---------------------------------------------------------------- HTTPS
hc = Client(base=E["TXMAIL_REST_URL"], user=A["user"], password=A["password"])
st, hdrs, _, doc = hc.post(reqA)
eq(st, 200, "HTTPS with the stack certificate: 200")
check(hc.conn.sock.version() in ("TLSv1.2", "TLSv1.3"), "TLS 1.2 or newer (%s)" % hc.conn.sock.version())
hc.close()
tls_port = E["TXMAIL_REST_URL"].rsplit(":", 1)[1]


def s_client(*args):
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:" + tls_port] + list(args),
                       input=b"", capture_output=True, timeout=10)
    return p.stdout.decode("utf-8", "replace")


check("Cipher is (NONE)" in s_client("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"), "the server refuses TLS 1.1")
check("New, TLSv1.2, Cipher is" in s_client("-tls1_2"), "the server speaks TLS 1.2")
out = raw_http(int(E["TXMAIL_REST_URL"].rsplit(":", 1)[1]), b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 3)
check(not out.startswith(b"HTTP/1.1 200"), "no plain HTTP on the HTTPS listener")

# ---------------------------------------------------------------- paths and methods
st, hdrs, _, doc = ca.request("GET", JOBS)
eq(st, 405, "GET on the jobs path: 405")
eq(hdrs.get("allow"), "POST", "Allow: POST")
eq(doc, {"meta": {"state": {"type": "REJECTED", "subType": "METHOD_NOT_ALLOWED", "description": "Method not allowed"}}},
   "405 body (§3.4)")
st, _, _, doc = ca.request("GET", "/email/v2/nothing-here")
eq((st, doc["meta"]["state"]["subType"]), (404, "NOT_FOUND"), "unknown path under the base: 404")
st, _, _, doc = Client().request("GET", "/email/v2/nothing-here", auth=False)
eq(st, 401, "unknown path under the base without credentials: 401 first")
st, _, _, doc = Client().request("GET", "/favicon.ico", auth=False)
eq(st, 404, "path outside the API: 404")
st, hdrs, data, doc = Client().request("GET", "/health", auth=False)
eq((st, doc["status"], doc["database"], doc["broker"]), (200, "ok", "ok", "ok"), "/health")
st, hdrs, data, _ = Client().request("GET", "/metrics", auth=False)
eq(st, 200, "/metrics")
check(b"txmail_rest_requests_total" in data and b"txmail_rest_jobs_total" in data, "/metrics has the request counters")
eq(Client(source="127.0.0.2").request("GET", "/health", auth=False)[0], 404, "/health only for rest_admin_clients")

# ---------------------------------------------------------------- rate limit
R = new_account(settings={"rateLimit": 2}, domain="auth-rate.example.com")
rc = Client(user=R["user"], password=R["password"])
reqR = base_request("auth-rate.example.com")
codes = [rc.post(reqR) for _ in range(4)]
eq([g[0] for g in codes[:2]], [200, 200], "within the rate: 200")
limited = [g for g in codes[2:] if g[0] == 429]
check(limited, "over the rate: 429")
expect_reject(limited[0], 429, "LIMIT_EXCEEDED", "Request rate limit exceeded", "rate limit")
check(int(limited[0][1].get("retry-after", "0")) >= 1, "Retry-After on 429")
time.sleep(1.2)
eq(rc.post(reqR)[0], 200, "after a second the rate allows again")

# ---------------------------------------------------------------- concurrency limit
K = new_account(settings={"concurrencyLimit": 1}, domain="auth-conc.example.com")
reqK = json.dumps(base_request("auth-conc.example.com")).encode()
slow = socket.create_connection(("127.0.0.1", rest_port()), timeout=10)
slow.sendall(b"POST " + JOBS.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Authorization: " + auth_header(K["user"], K["password"]).encode() + b"\r\n"
             b"Content-Length: " + str(len(reqK)).encode() + b"\r\n\r\n" + reqK[:10])
time.sleep(0.5)    # the first request holds its slot while its body arrives
kc = Client(user=K["user"], password=K["password"])
expect_reject(kc.post(base_request("auth-conc.example.com")), 429, "LIMIT_EXCEEDED", "Concurrent request limit exceeded",
              "second concurrent request")
slow.sendall(reqK[10:])
resp = b""
while b"\r\n\r\n" not in resp:
    resp += slow.recv(65536)
check(resp.startswith(b"HTTP/1.1 200"), "the first request completes: %r" % resp[:20])
slow.close()
time.sleep(0.2)
eq(kc.post(base_request("auth-conc.example.com"))[0], 200, "slot given back: 200")
done()
