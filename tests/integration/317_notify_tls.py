"""txmail-notify over HTTPS: the certificate is verified (the stack's CA is
notify_ca_file): a trusted endpoint gets its POST, an endpoint with an
unknown self-signed certificate never gets one (the handshake fails and
the POST is retried, never sent unverified) until it presents a trusted one."""
import http.server
import ssl
import subprocess
import threading
from txtest import *
from txevents import *

D = E["TXMAIL_STACK_DIR"]


class TLSHook:
    def __init__(self, cert, key):
        self.requests = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.handle_error = lambda *a: None
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.server.socket = self.ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


trusted = TLSHook(D + "/tls/cert.pem", D + "/tls/key.pem")
other = os.path.join(D, "case-logs", "untrusted-%d" % os.getpid())
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", other + ".key",
                "-out", other + ".pem"], check=True, capture_output=True)
untrusted = TLSHook(other + ".pem", other + ".key")

acct = new_account()
A = acct["id"]
evs = {}
for name, h in (("trusted", trusted), ("untrusted", untrusted)):
    job, received = insert_job(A, notification={"url": h.url})
    evs[name] = event(A, job, rid(job), received, "DELIVER", "FINISHED", "DELIVERED", "OK",
                      email="%s@example.com" % name, frm="s@example.com")
publish_events(list(evs.values()))
body = wait_until(lambda: trusted.requests, 15, "the POST over verified TLS")[0]
eq([n["meta"]["tag"] for n in json.loads(body)["notifications"]], [evs["trusted"]["tag"]], "trusted endpoint got its notification")
logp = D + "/log/notify-1.log"
wait_until(lambda: "%s: tag=%s" % (evs["untrusted"]["rid"], evs["untrusted"]["tag"][:16]) in open(logp).read(), 15,
           "the failed attempt logged")
line = [l for l in open(logp).read().splitlines() if evs["untrusted"]["tag"][:16] in l][-1]
check("status=deferred (connect error:" in line and "certificate" in line.lower(), "certificate refused: %s" % line[-160:])
time.sleep(2)
eq(untrusted.requests, [], "nothing was ever sent to the unverified endpoint")
# the endpoint gets a certificate the CA vouches for: the next retry goes through
untrusted.ctx.load_cert_chain(D + "/tls/cert.pem", D + "/tls/key.pem")
body = wait_until(lambda: untrusted.requests, 30, "the retry once the certificate is trusted")[0]
eq([n["meta"]["tag"] for n in json.loads(body)["notifications"]], [evs["untrusted"]["tag"]], "delivered after all")
done()
