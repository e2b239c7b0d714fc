"""txmail-track hardening (issue 11): HTTPS refuses TLS 1.0 and 1.1
handshakes (track_tls_priorities, TLS 1.2 or newer as txmail-rest), TLS 1.2
and 1.3 work; /health answers only track_health_allow (default loopback; a
load balancer's network in production) and 404 to everyone else, like
/metrics."""
import http.client
import ssl
import urllib.parse

from txtest import *
from txrest import free_port

D = E["TXMAIL_STACK_DIR"]


def start(*opts):
    port = free_port()
    args = ["-o", "track_listen=127.0.0.1:%d" % port, "-o", "metrics_dir="]
    for o in opts:
        args += ["-o", o]
    return Program("txmail-track", *args, log_name="track-508-%d" % port), port


def health(port, source="127.0.0.1", ctx=None):
    if ctx:
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5, source_address=(source, 0))
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    c.request("GET", "/health")
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def ctx_for(version):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.set_ciphers("ALL:@SECLEVEL=0")  # let this client offer old versions at all
    c.minimum_version = version
    c.maximum_version = version
    return c


# ---- TLS floor
tls, port = start("track_tls=yes", "track_tls_cert_file=%s/tls/cert.pem" % D, "track_tls_key_file=%s/tls/key.pem" % D)
def up():
    try:
        return health(port, ctx=ctx_for(ssl.TLSVersion.TLSv1_2))[0] == 200
    except (OSError, ssl.SSLError):
        return False


wait_until(up, 20, "HTTPS txmail-track")
for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
    try:
        st = health(port, ctx=ctx_for(v))[0]
        got = "answered %s" % st
    except ssl.SSLError as e:
        got = "refused"
        log("%s: %s" % (v.name, e))
    except OSError as e:
        got = "refused"
        log("%s: %s" % (v.name, e))
    eq(got, "refused", "a %s handshake is refused" % v.name)
for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
    eq(health(port, ctx=ctx_for(v))[0], 200, "%s works" % v.name)
tls.stop()

# ---- /health only for track_health_allow
p, port = start("track_health_allow=127.0.0.1/32")
wait_until(lambda: health(port)[0] == 200, 20, "txmail-track")
st, body = health(port, "127.0.0.1")
check(st == 200 and json.loads(body)["status"] == "ok", "/health from an allowed address: 200")
eq(health(port, "127.0.0.2")[0], 404, "/health from another address: 404")
p.stop()
# the default: loopback only; the stack's instance answers its own checks
st, _ = health(int(urllib.parse.urlsplit(E["TXMAIL_TRACK_URL"]).port))
eq(st, 200, "the stack's txmail-track answers /health on loopback")
done()
