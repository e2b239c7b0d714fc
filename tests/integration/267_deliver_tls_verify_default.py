"""txmail-deliver authenticates the peer of every enforced-TLS session by
default (deliver_tls_verify = yes, finding "enforced TLS does not verify
certificates"): a STARTTLS peer whose self-signed certificate no
configured CA vouches for (a second certificate made here, not the
stack's) gets nothing - DEFERRED [4.4.1] naming the certificate
verification; the stack's sink, whose certificate is the CA that the
stack's configuration names in deliver_tls_ca_file, is delivered to over
TLS; opportunistic TLS to the untrusted peer stays unauthenticated and is
delivered; the documented opt-out deliver_tls_verify = no delivers
enforced mail to the untrusted peer."""
import atexit
import glob
import json
import re
import subprocess

from dlvtest import *
from txtest import *

# a peer with a certificate nobody trusts (IP SAN 127.0.0.1 like the stack's: only the chain differs)
d = os.path.join(E["TXMAIL_STACK_DIR"], uniq("untrusted"))
os.makedirs(os.path.join(d, "sink"))
p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=untrusted.test",
                    "-addext", "subjectAltName=DNS:untrusted.test,IP:127.0.0.1",
                    "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem")],
                   capture_output=True, text=True)
check(p.returncode == 0, "an untrusted self-signed certificate (%s)" % p.stderr.strip()[-200:])
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
sink = subprocess.Popen([os.path.join(BIN, "txmail-sink"), "-l", "127.0.0.1:%d" % port,
                         "-d", os.path.join(d, "sink"), "-c", os.path.join(d, "cert.pem"),
                         "-k", os.path.join(d, "key.pem"), "-H", "untrusted.test"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
atexit.register(lambda: (sink.terminate(), sink.wait()))
wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True, 10,
           "the untrusted sink listening")


def untrusted_got(rcpt):
    out = []
    for meta in glob.glob(os.path.join(d, "sink", "*.json")):
        with open(meta) as f:
            m = json.load(f)
        if rcpt in m["rcptTo"]:
            with open(meta[:-5] + ".eml", "rb") as f:
                out.append((m, f.read()))
    return out


ev = Events()
tmap = write_transport(["untrusted.test 127.0.0.1:%d" % port, "trusted.test 127.0.0.1:%s" % E["TXMAIL_SINK_PORT"]])

# the defaults (the stack's configuration names its own CA in deliver_tls_ca_file, nothing about verification)
w = Worker("deliver_transport_map=" + tmap, "deliver_retry_schedule=1s", "deliver_max_age=1h")
r1 = uniq("enf") + "@untrusted.test"
rid1, _ = w.send(r1, tlsEnforced=True)
d1 = ev.wait(rid1, "DEFERRED", "SOFT_BOUNCE")[0]
check(re.fullmatch(r"\[4\.4\.1\] deferred \(TLS handshake failed: certificate verification failed: "
                   r"self[- ]signed certificate with 127\.0\.0\.1\[127\.0\.0\.1\]\)", d1["description"]) is not None,
      "enforced TLS to an untrusted certificate: deferred, naming the verification: " + d1["description"])
time.sleep(1)
eq(untrusted_got(r1), [], "nothing reached the untrusted peer")
check(not any(e["type"] == "DELIVERED" for e in ev.of(rid1)), "no DELIVERED event")

# enforced TLS to the stack's sink: its certificate is the configured CA
r2 = uniq("enfok") + "@trusted.test"
rid2, raw2 = w.send(r2, tlsEnforced=True)
ev.wait(rid2, "DELIVERED", "OK")
m2 = sink_wait(r2, 1, 30)[0]
eq((m2[1], m2[0]["tls"]), (raw2, True), "enforced TLS to a peer the CA vouches for: delivered over TLS")

# opportunistic: encryption without authentication, as before
r3 = uniq("opp") + "@untrusted.test"
rid3, raw3 = w.send(r3)
ev.wait(rid3, "DELIVERED", "OK")
m3 = wait_until(lambda: untrusted_got(r3), 10, "the opportunistic message at the untrusted peer")[0]
eq((m3[1], m3[0]["tls"]), (raw3, True), "opportunistic TLS to an untrusted certificate: delivered, encrypted")
w.stop()

# the opt-out: deliver_tls_verify = no
o = Worker("deliver_transport_map=" + tmap, "deliver_retry_schedule=1s", "deliver_tls_verify=no")
r4 = uniq("optout") + "@untrusted.test"
rid4, raw4 = o.send(r4, tlsEnforced=True)
ev.wait(rid4, "DELIVERED", "OK")
m4 = wait_until(lambda: untrusted_got(r4), 10, "the opted-out enforced message at the untrusted peer")[0]
eq((m4[1], m4[0]["tls"]), (raw4, True), "deliver_tls_verify=no: enforced TLS without authentication is delivered")
o.stop()

# the first message is still waiting for a peer it can trust, never sent
eq(untrusted_got(r1), [], "still nothing for the enforced message at the untrusted peer")
done()
