"""txmail-rest HTTPS listener under a slowloris attack (issue 11): with the
listener full of connections from 127.0.0.1 that trickle a TLS ClientHello
one byte every 2 s, or complete the handshake and then trickle the request
header, a normal HTTPS client from 127.0.0.2 is answered within a few
seconds; connections over the per-client cap are refused at once and the
accepted ones are closed at the header deadline, which covers the TLS
handshake (a private instance with rest_max_connections = 300 keeps the
case small; the per-client cap and deadline are the defaults)."""
import http.client
import ssl

from txtest import *
from txrest import *
from slowloris import Slow

setup_queues()
A = new_account(domain="slowtls.example.com")
port = free_port()
p = Program("txmail-rest", "-o", "rest_listen=127.0.0.1:%d" % port, "-o", "rest_plain_listen=",
            "-o", "rest_max_connections=300", "-o", "metrics_dir=", log_name="rest-https-%d" % port)
ctx = ssl.create_default_context(cafile=E.get("TXMAIL_TLS_CA"))
ctx.check_hostname = False


def answered(source, timeout=10):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout, source_address=(source, 0))
    c.request("POST", JOBS, body=json.dumps(base_request("slowtls.example.com")),
              headers={"Authorization": auth_header(A["user"], A["password"]), "Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def up():
    try:
        return answered("127.0.0.1", 2) == 200
    except OSError:
        return False


wait_until(up, 20, "private HTTPS txmail-rest on port %d" % port)

# a real ClientHello, to trickle byte by byte
probe = ssl.create_default_context()
inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = probe.wrap_bio(inc, outg, server_hostname="localhost")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outg.read()
check(len(hello) > 100, "a ClientHello to trickle (%d bytes)" % len(hello))

t0 = time.time()
hs = Slow("127.0.0.1", port, 20, b"POST " + JOBS.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 4000,
          tls_ctx=ctx, tls_n=20)
slow = Slow("127.0.0.1", port, 580, hello, source="127.0.0.1", interval=2.0)
log("opened %d + %d slow connections in %.1f s" % (len(hs.conns), len(slow.conns), time.time() - t0))
time.sleep(1.5)
log("open after 1.5 s: %d handshaken, %d in the handshake" % (hs.open_count(), slow.open_count()))

t1 = time.time()
try:
    st = answered("127.0.0.2")
except (OSError, ssl.SSLError) as e:
    st = str(e)
el = time.time() - t1
eq(st, 200, "an HTTPS job from 127.0.0.2 is accepted during the attack")
check(el < 5, "answered within 5 s (%.2f s)" % el)
check(hs.open_count() + slow.open_count() <= 100 + 16, "at most the per-client cap stays open")

left = slow.wait_closed(16) + hs.wait_closed(2)
eq(left, 0, "every slow connection is closed within 16 s (%d still open)" % left)
lives = sorted(slow.lifetimes() + hs.lifetimes())
log("lifetimes: min %.1f s, max %.1f s" % (lives[0], lives[-1]))
check(lives[-1] < 14, "none lived longer than the 10 s deadline plus the sweep (%.1f s)" % lives[-1])
check(any(x > 5 for x in hs.lifetimes()), "handshaken connections trickling a header lived until the deadline")
slow.stop()
hs.stop()
eq(answered("127.0.0.1"), 200, "127.0.0.1 is served again afterwards")
p.stop()
done()
