"""txmail-rest under load: 1,000 requests in flight at once - 10 client threads
(8 over plain HTTP, 2 over HTTPS) each open 100 connections and send all 100
requests but their last byte, then, once every thread is there, the last
bytes, before reading any answer; every 10th request is invalid. Every 200
answer has exactly one job in the broker, and no job exists without a 200.
Each thread is a client of its own (source address 127.0.0.1x): 100
connections is what rest_max_connections_per_client allows one address."""
import ssl
import threading

from txtest import *
from txrest import *

setup_queues()
# 1,000 requests in flight from one account: no concurrency limit (rest_account_concurrency is 16)
A = new_account(settings={"concurrencyLimit": 0}, domain="load.example.com")
THREADS, PER = 10, 100
AUTH = auth_header(A["user"], A["password"]).encode()
ok_ids, bad_ids, other = [], [], []
lock = threading.Lock()
start = threading.Barrier(THREADS)
ctx = ssl.create_default_context(cafile=E["TXMAIL_TLS_CA"])


def request_bytes(t, i):
    req = base_request("load.example.com", to="r%d-%d@example.org" % (t, i))
    if i % 7 == 3:
        req["recipients"].append({"mail": {"to": [{"email": "x%d@example.org" % i}], "cc": [{"email": "foo@bar"}]}})
    if i % 10 == 9:
        del req["mail"]
    body = json.dumps(req).encode()
    return (b"POST " + JOBS.encode() + b" HTTP/1.1\r\nHost: load\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nAuthorization: " + AUTH + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def client(t):
    tls = t >= 8
    url = E["TXMAIL_REST_URL"] if tls else E["TXMAIL_REST_HTTP_URL"]
    port = int(url.rsplit(":", 1)[1])
    socks = []
    for i in range(PER):
        s = socket.create_connection(("127.0.0.1", port), timeout=120, source_address=("127.0.0.%d" % (10 + t), 0))
        if tls:
            s = ctx.wrap_socket(s, server_hostname="localhost")
        # everything but the last byte of the body at once: the header must
        # arrive within rest_header_timeout, the body within rest_read_timeout
        s.sendall(request_bytes(t, i)[:-1])
        socks.append(s)
    start.wait()
    for i, s in enumerate(socks):
        s.sendall(request_bytes(t, i)[-1:])
    for s in socks:
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        with lock:
            if status == 200:
                ok_ids.append(json.loads(body)["meta"]["jobId"])
            elif status == 400:
                bad_ids.append(json.loads(body)["meta"]["jobId"])
            else:
                other.append((status, data[:200]))


threads = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
for t in threads:
    t.start()
t0 = time.time()
for t in threads:
    t.join()
secs = time.time() - t0
log("%d requests in flight at once, all answered in %.2f s (%.0f/s)" % (THREADS * PER, secs, THREADS * PER / secs))
eq(other, [], "no answer other than 200 and the expected 400s")
eq(len(ok_ids), 900, "900 accepted")
eq(len(bad_ids), 100, "100 rejected")
eq(len(set(ok_ids)), 900, "job ids are unique")
jobs = jobs_in(RENDER_Q, 0.5, A["id"])
eq(sorted(set(jobs) - set(ok_ids)), [], "no job in the broker without a 200 answer")
eq(sorted(set(ok_ids) - set(jobs)), [], "every 200 answer has its job in the broker")
eq(sorted(set(n for _, n in jobs.values())), [1], "each job exactly once")
eq(sql("SELECT COUNT(*) FROM job WHERE account_id=%s", A["id"])[0][0], 900, "900 acceptance records")
blocks = sorted(set(len(e["data"]["blocks"]) for e, _ in jobs.values()))
eq(blocks, [1, 2], "single- and two-block jobs both went through")
done()
