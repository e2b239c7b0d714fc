"""txmail-exporter serves exporter_allow only: a client outside it gets
403 for /metrics and /health; the stack's exporter (loopback allowed)
answers 404 for other paths and 405 for other methods; a malformed
exporter_allow stops the start-up naming the parameter."""
import http.client
import subprocess
import urllib.parse

from txtest import *

U = urllib.parse.urlsplit(E["TXMAIL_METRICS_URL"])


def get(port, path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


eq(get(U.port, "/metrics")[0], 200, "loopback is allowed")
eq(get(U.port, "/health")[:3:2], (200, b"ok\n"), "/health")
eq(get(U.port, "/other")[0], 404, "unknown path: 404")
st, h, _ = get(U.port, "/metrics", "POST")
eq((st, h.get("allow")), (405, "GET, HEAD"), "POST: 405 with Allow")

# an exporter that serves only 192.0.2.0/24: loopback is refused
port = int(E["TXMAIL_PORT_SPARE1"])
own = Program("txmail-exporter", "-o", "exporter_port=%d" % port, "-o", "exporter_allow=192.0.2.0/24,2001:db8::/32",
              log_name="exporter-refuse")
wait_until(lambda: get(port, "/health")[0] in (200, 403), 15, "the second exporter listens")
for path in ("/metrics", "/health", "/other"):
    st, _, body = get(port, path)
    eq(st, 403, "%s from a client not allowed: 403" % path)
    check(b"txmail_" not in body, "%s: no metrics in the refusal" % path)
own.stop()

p = subprocess.run([os.path.join(E["TXMAIL_BIN"], "txmail-exporter"), "-c", E["TXMAIL_CONF"], "-o",
                    "exporter_port=%d" % port, "-o", "exporter_allow=not-a-network"],
                   capture_output=True, text=True, timeout=30)
check(p.returncode != 0 and "exporter_allow" in p.stderr + p.stdout,
      "a malformed exporter_allow stops the start (%d: %s)" % (p.returncode, (p.stderr + p.stdout).strip()[-200:]))
done()
