"""txmail-smtpd, inbound policy: TLS offered, never required; no AUTH. EHLO
offers STARTTLS and no AUTH (neither before nor after TLS); AUTH is refused
with 503 5.5.1 and does not authenticate anything; a session over STARTTLS
delivers and the envelope records the TLS protocol; a plain-text session
from a non-exempt view (smtpd_tls_exempt_clients empty, smtpd_require_tls
on) still delivers: MTAs fall back to plain text."""
import base64

from txtest import *
from inboundtest import *
from smtpdtest import DEMO, queued_id

q = inbound_queue("t432_inbound")
p, port = private_inbound(q, "smtpd_require_tls=yes", "smtpd_tls_exempt_clients=")
a = bounce_account()
verp = "%s@%s" % (verp_local(new_rid(1, 2)), a["bounce"])
msg = b"Subject: over TLS\r\n\r\nhello\r\n"
NOT_ENABLED = "503 5.5.1 Error: authentication not enabled"

c = Raw(port=port)
ehlo = c.ehlo("mx.tls.example")[1].split("\n")
check("STARTTLS" in ehlo, "STARTTLS offered: %r" % ehlo)
check(not any(l.startswith("AUTH") for l in ehlo), "no AUTH before TLS")
tok = base64.b64encode(b"\0" + DEMO[0].encode() + b"\0" + DEMO[1].encode()).decode()
eq(c.cmd("AUTH PLAIN " + tok)[1], NOT_ENABLED, "AUTH before TLS refused")
c.starttls()
ehlo = c.ehlo("mx.tls.example")[1].split("\n")
check("STARTTLS" not in ehlo, "no STARTTLS inside TLS")
check(not any(l.startswith("AUTH") for l in ehlo), "no AUTH after TLS either: %r" % ehlo)
eq(c.cmd("AUTH PLAIN " + tok)[1], NOT_ENABLED, "AUTH with the demo credential refused over TLS")
eq(c.cmd("AUTH LOGIN")[1], NOT_ENABLED, "AUTH LOGIN refused")
proto = c.sock.version()
answers, final = send(c, "mailer-daemon@mx.tls.example", [verp], msg)
eq(answers, ["250 2.1.5 Ok"], "RCPT over TLS")
check(queued_id(final), "queued over TLS: %r" % final)
env, raw = envelopes(q, 1)[0]
eq((env["data"]["tls"], env["data"]["helo"], raw), (proto, "mx.tls.example", msg),
   "the envelope records the TLS protocol (%s)" % proto)
# a relay attempt after AUTH: still refused (AUTH gave nothing)
foreign = "someone@example.org"
eq(c.cmd("MAIL FROM:<a@example.com>")[1], "250 2.1.0 Ok", "MAIL")
eq(c.cmd("RCPT TO:<%s>" % foreign)[1], RELAY_DENIED % foreign, "no relaying over TLS after AUTH attempts")
c.cmd("QUIT")
c.close()

# ---- plain text, require_tls set and no exempt clients: still taken (opportunistic TLS)
c = session(port)
answers, final = send(c, "", [verp], msg)
check(queued_id(final), "plain-text session queued: %r" % final)
env, raw = envelopes(q, 1)[0]
eq(env["data"]["tls"], None, "tls: null for a plain session")
c.close()
logt = p.log_text()
check("reject: AUTH from [127.0.0.1]: " + NOT_ENABLED in logt, "refused AUTH logged")
check("authenticated" not in logt, "nothing authenticated")
done()
