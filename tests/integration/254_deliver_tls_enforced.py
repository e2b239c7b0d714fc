"""txmail-deliver and TLS policy: opportunistic TLS sends to a peer without
STARTTLS in plain text; enforced TLS (message data or the sender domain's
setting) never does - DEFERRED [4.4.1], nothing at the plain sink, and at
the maximum age BOUNCED/SOFT_BOUNCE; enforced TLS to a STARTTLS peer is
delivered encrypted; an enforced session also authenticates the peer
(deliver_tls_verify, on by default since 267: name in the certificate:
delivered; not: deferred), while opportunistic sessions stay
unauthenticated."""
import re

from dlvtest import *
from txtest import *

ev = Events()

# opportunistic to plain.test (stack transport map -> the sink without STARTTLS)
r1 = uniq("opp") + "@plain.test"
rid1, raw1 = send(r1)
m1 = sink_wait(r1, 1, 30, plain=True)[0]
eq((m1[1], m1[0]["tls"]), (raw1, False), "opportunistic: delivered in plain text to a peer without STARTTLS")
ev.wait(rid1, "DELIVERED", "OK")

w = Worker("deliver_retry_schedule=1s", "deliver_max_age=4s")
# enforced by the message data
r2 = uniq("enf") + "@plain.test"
rid2, _ = w.send(r2, tlsEnforced=True, created=int(time.time() * 1000) - 1000)
defs = ev.wait(rid2, "DEFERRED", "SOFT_BOUNCE")
eq(defs[0]["description"], "[4.4.1] deferred (TLS is required, but was not offered by host 127.0.0.1[127.0.0.1])",
   "enforced TLS against a peer without STARTTLS: deferred")

# enforced by the sender domain (tls_enforced), the message data says nothing
acct = new_account()
sql("UPDATE sender_domain SET tls_enforced=1 WHERE account_id=%s", acct["id"])
dom_id = sql("SELECT id FROM sender_domain WHERE account_id=%s", acct["id"])[0][0]
r3 = uniq("enfdom") + "@plain.test"
rid3, _ = w.send(r3, account=acct["id"], senderDomain={"id": dom_id, "domain": acct["domain"]},
                 created=int(time.time() * 1000) - 1000)
d3 = ev.wait(rid3, "DEFERRED", "SOFT_BOUNCE")[0]
check("TLS is required, but was not offered" in d3["description"], "sender domain policy enforces TLS: " + d3["description"])

# both end soft-bounced at the maximum age and were never sent in plain text
f2 = ev.wait(rid2, "BOUNCED", "SOFT_BOUNCE", timeout=30)[0]
eq(f2["description"], "[4.4.1] bounced (TLS is required, but was not offered by host 127.0.0.1[127.0.0.1])",
   "expired with the TLS reason")
ev.wait(rid3, "BOUNCED", "SOFT_BOUNCE", timeout=30)
eq((sink_for(r2, plain=True), sink_for(r3, plain=True)), ([], []), "nothing ever reached the plain sink")

# enforced to a STARTTLS peer whose certificate names it (verified by default): delivered encrypted
r4 = uniq("enfok") + "@example.com"
rid4, raw4 = w.send(r4, tlsEnforced=True)
m4 = sink_wait(r4, 1, 30)[0]
eq((m4[1], m4[0]["tls"]), (raw4, True), "enforced TLS to a STARTTLS peer: delivered over TLS")
w.stop()

# deliver_tls_verify: enforced sessions authenticate the peer against the stack's CA
ca = os.path.join(E["TXMAIL_STACK_DIR"], "tls", "cert.pem")
v = Worker("deliver_tls_verify=yes", "deliver_tls_ca_file=" + ca, "deliver_retry_schedule=1s")
r5 = uniq("ver") + "@example.com"          # mx.example.com is in the certificate
rid5, raw5 = v.send(r5, tlsEnforced=True)
m5 = sink_wait(r5, 1, 30)[0]
eq((m5[1], m5[0]["tls"]), (raw5, True), "verified peer name: delivered")
r7 = uniq("oppver") + "@example.net"       # opportunistic: encryption without authentication
rid7, raw7 = v.send(r7)
m7 = sink_wait(r7, 1, 30)[0]
eq((m7[1], m7[0]["tls"]), (raw7, True), "opportunistic session to a peer whose name is not in its certificate: TLS")
r6 = uniq("nover") + "@example.net"        # enforced: the cached unauthenticated connection must not carry it
rid6, _ = v.send(r6, tlsEnforced=True)
d6 = ev.wait(rid6, "DEFERRED", "SOFT_BOUNCE")[0]
check(re.fullmatch(r"\[4\.4\.1\] deferred \(TLS handshake failed: certificate verification failed: .+ with "
                   r"mx\.example\.net\[127\.0\.0\.1\]\)", d6["description"]) is not None,
      "unverifiable peer of an enforced session: deferred: " + d6["description"])
check(no_message(r6, 0.3), "and not sent")
v.stop()
done()
