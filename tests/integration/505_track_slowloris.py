"""txmail-track under a slowloris attack (issue 11), plain HTTP and HTTPS:
with the listener full of connections from 127.0.0.1 that send their
request header (or TLS ClientHello) one byte every 2 s, a normal client from
127.0.0.2 gets its pixel within a few seconds; the connections over the
per-client cap (track_max_connections_per_client, default 256) are refused
at once and the accepted ones are closed at the header deadline
(track_header_timeout, default 10 s). Private instances with
track_connection_limit = 400 keep the case small."""
import http.client
import ssl
import uuid

from txtest import *
from txrest import free_port
from slowloris import Slow
import txtrack

D = E["TXMAIL_STACK_DIR"]
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"
CAP = 256


def start(*opts):
    port = free_port()
    args = ["-o", "track_listen=127.0.0.1:%d" % port, "-o", "metrics_dir=", "-o", "track_connection_limit=400"]
    for o in opts:
        args += ["-o", o]
    return Program("txmail-track", *args, log_name="track-slow-%d" % port), port


def pixel(port, source, ctx=None, timeout=10):
    tok = txtrack.token("o", str(uuid.uuid4()), 0, 0)
    if ctx:
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout, source_address=(source, 0))
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    c.request("GET", "/t/o/%s.gif" % tok, headers={"User-Agent": UA})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def attack(what, port, data, ctx=None):
    def up():
        try:
            return pixel(port, "127.0.0.1", ctx, 2) == 200
        except (OSError, ssl.SSLError):
            return False
    wait_until(up, 20, "%s txmail-track on port %d" % (what, port))
    t0 = time.time()
    slow = Slow("127.0.0.1", port, 600, data, source="127.0.0.1", interval=2.0)
    log("%s: opened %d slow connections in %.1f s" % (what, len(slow.conns), time.time() - t0))
    time.sleep(1.5)
    t1 = time.time()
    try:
        st = pixel(port, "127.0.0.2", ctx)
    except (OSError, ssl.SSLError) as e:
        st = str(e)
    el = time.time() - t1
    eq(st, 200, "%s: a pixel for 127.0.0.2 during the attack" % what)
    check(el < 5, "%s: answered within 5 s (%.2f s)" % (what, el))
    check(slow.open_count() <= CAP + 8, "%s: at most the per-client cap stays open (%d)" % (what, slow.open_count()))
    left = slow.wait_closed(16)
    eq(left, 0, "%s: every slow connection closed within 16 s (%d still open)" % (what, left))
    lives = sorted(slow.lifetimes())
    log("%s: lifetimes min %.1f s, max %.1f s" % (what, lives[0], lives[-1]))
    check(lives[-1] < 14, "%s: none outlived the 10 s deadline plus the sweep (%.1f s)" % (what, lives[-1]))
    check(sum(1 for x in lives if x > 5) >= 1, "%s: the accepted ones lived until the deadline" % what)
    slow.stop()
    eq(pixel(port, "127.0.0.1", ctx), 200, "%s: 127.0.0.1 served again afterwards" % what)


plain, pport = start()
attack("plain", pport, b"GET /t/o/x.gif HTTP/1.1\r\nHost: x\r\nUser-Agent: " + b"a" * 4000)
check("did not arrive within" in plain.log_text(), "plain: the header timeouts are logged")
plain.stop()

tls, tport = start("track_tls=yes", "track_tls_cert_file=%s/tls/cert.pem" % D, "track_tls_key_file=%s/tls/key.pem" % D)
ctx = ssl.create_default_context(cafile=os.path.join(D, "tls", "cert.pem"))
ctx.check_hostname = False
probe = ssl.create_default_context()
inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = probe.wrap_bio(inc, outg, server_hostname="localhost")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
attack("https", tport, outg.read(), ctx)
tls.stop()
done()
