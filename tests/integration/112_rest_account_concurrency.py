"""An account whose settings name no concurrencyLimit gets
rest_account_concurrency concurrent requests (issue 11: four parallel 20 MB
bodies of one tenant took 6.4 GB). With rest_account_concurrency=3, three
requests whose bodies are still arriving hold the account's slots: a fourth
is answered 429 LIMIT_EXCEEDED "Concurrent request limit exceeded" with
Retry-After at once, another account is not affected, an account with
concurrencyLimit 0 is not limited, and once a slot is given back the
account is served again."""
import socket

from txtest import *
from txrest import *

setup_queues()
A = new_account(domain="conc-default.example.com")
B = new_account(domain="conc-other.example.com")
U = new_account(settings={"concurrencyLimit": 0}, domain="conc-off.example.com")
P = PrivateRest(rest_account_concurrency="3")


def slow(acct):
    """a request whose headers are in and whose body is not: it holds a slot"""
    req = json.dumps(base_request(acct["domain"])).encode()
    s = socket.create_connection(("127.0.0.1", P.port), timeout=20)
    s.sendall(b"POST " + JOBS.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Authorization: " + auth_header(acct["user"], acct["password"]).encode() + b"\r\n"
              b"Content-Length: " + str(len(req)).encode() + b"\r\n\r\n" + req[:10])
    return s, req


def finish(s, req):
    s.sendall(req[10:])
    resp = b""
    while b"\r\n\r\n" not in resp:
        d = s.recv(65536)
        if not d:
            break
        resp += d
    s.close()
    return resp


def post_once(acct):
    """one request on a connection of its own, closed at once (a slot is
    given back when the server has finished with the connection's request)"""
    c = P.client(user=acct["user"], password=acct["password"])
    try:
        return c.post(base_request(acct["domain"]))
    finally:
        c.close()


eq(post_once(A)[0], 200, "A alone is served (its login now cached)")
time.sleep(0.2)
held = [slow(A) for _ in range(3)]
# the server takes the held requests' slots once it has read their headers;
# a sanitizer build is several times slower at that
time.sleep(2.0 if "asan" in E.get("TXMAIL_BUILD", "") else 0.5)
got = post_once(A)
expect_reject(got, 429, "LIMIT_EXCEEDED", "Concurrent request limit exceeded", "fourth concurrent request of A")
check(int(got[1].get("retry-after", "0")) >= 1, "Retry-After on 429")
eq(P.client(user=B["user"], password=B["password"]).post(base_request(B["domain"]))[0], 200,
   "another account is served")
uheld = [slow(U) for _ in range(4)]
time.sleep(0.5)
eq(P.client(user=U["user"], password=U["password"]).post(base_request(U["domain"]))[0], 200,
   "concurrencyLimit 0: a fifth concurrent request of U is served")
for s, req in uheld:
    check(finish(s, req).startswith(b"HTTP/1.1 200"), "U's held request completes")
s, req = held.pop()
check(finish(s, req).startswith(b"HTTP/1.1 200"), "a held request of A completes")
time.sleep(0.2)
eq(post_once(A)[0], 200, "a slot given back: A is served again")
for s, req in held:
    finish(s, req)
drain(RENDER_Q, timeout=0.5)
P.stop()
done()
