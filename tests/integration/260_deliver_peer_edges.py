"""txmail-deliver against scripted SMTP peers, for replies real MTAs do not
give on demand: EHLO refused -> HELO and one command at a time; multi-line
final reply in the description; STARTTLS offered but refused (454) ->
plain text when opportunistic, deferral when enforced; a 5xx greeting is
treated as temporary; 421 in reply to MAIL FROM -> DEFERRED with its code;
a garbage reply -> DEFERRED [4.4.1]; a peer hanging up after RCPT; an
extension in the last line of a long EHLO reply."""
import re

from dlvtest import *
from txtest import *

ev = Events()
peers = {
    "helo": ScriptedPeer(EHLO="502 5.5.2 EHLO not supported", DOT="250-2.0.0 first line\r\n250 2.0.0 queued as MULTI"),
    "notls": ScriptedPeer(EHLO="250-scripted.test\r\n250-PIPELINING\r\n250 STARTTLS"),
    "greet": ScriptedPeer(GREETING="554 5.3.2 no service here"),
    "busy": ScriptedPeer(MAIL="421 4.3.2 shutting down"),
    "garbage": ScriptedPeer(RCPT="hello there"),
    "hangup": ScriptedPeer(RCPT=None),
    "longehlo": ScriptedPeer(EHLO="250-scripted.test\r\n" + "".join("250-X-FILLER-%02d-%s\r\n" % (i, "f" * 70)
                                                                  for i in range(40)) + "250 SIZE 1000000"),
}
tmap = write_transport(["%s.scripted.test 127.0.0.1:%d" % (k, p.port) for k, p in peers.items()])
w = Worker("deliver_transport_map=" + tmap, "deliver_retry_schedule=1h")


def rcpt(kind):
    return uniq(kind) + "@%s.scripted.test" % kind


# EHLO refused: HELO, then MAIL/RCPT/DATA one by one; a multi-line final reply
r = rcpt("helo")
rid, raw = w.send(r)
d = ev.wait(rid, "DELIVERED", "OK")[0]
eq(d["description"], "[2.0.0] delivered (host 127.0.0.1[127.0.0.1] said: 250-2.0.0 first line 250 2.0.0 queued as MULTI)",
   "multi-line reply joined in the description")
s = peers["helo"].sessions[0]
eq([x.split(" ")[0].split(":")[0] for x in s[:5]], ["EHLO", "HELO", "MAIL", "RCPT", "DATA"],
   "HELO after a refused EHLO, then one command at a time")
check("SIZE=" not in s[2] and "BODY=" not in s[2], "no ESMTP parameters after HELO: " + s[2])
eq(peers["helo"].messages[0], raw, "message intact")

# STARTTLS offered but refused: opportunistic goes on in plain text ...
r = rcpt("notls")
rid, raw = w.send(r)
ev.wait(rid, "DELIVERED", "OK")
eq(peers["notls"].messages[-1], raw, "opportunistic: delivered in plain text after a refused STARTTLS")
# ... enforced does not
r = rcpt("notls")
rid, _ = w.send(r, tlsEnforced=True)
d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE")[0]
eq(d["description"], "[4.4.1] deferred (TLS is required, but host 127.0.0.1[127.0.0.1] refused to start TLS: "
   "454 4.7.0 TLS not available)", "enforced: deferred")
eq(len(peers["notls"].messages), 1, "and nothing sent")

# 5xx greeting: temporary (another MX or a later try may do)
r = rcpt("greet")
rid, _ = w.send(r)
d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE")[0]
eq(d["description"], "[4.3.2] deferred (host 127.0.0.1[127.0.0.1] said: 554 5.3.2 no service here)", "5xx greeting deferred")
check("x" not in d, "no suppression")

# 421 to MAIL FROM
r = rcpt("busy")
rid, _ = w.send(r)
d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE")[0]
eq((d["description"], d["smtpCode"]), ("[4.3.2] deferred (host 127.0.0.1[127.0.0.1] said: 421 4.3.2 shutting down)", "421"),
   "421 deferral")

# garbage instead of a reply
r = rcpt("garbage")
rid, _ = w.send(r)
d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE")[0]
check(re.fullmatch(r"\[4\.4\.1\] deferred \(malformed reply \(hello there\) with 127\.0\.0\.1\[127\.0\.0\.1\] while sending RCPT TO\)",
                   d["description"]) is not None, "garbage reply: " + d["description"])

# the peer hangs up instead of answering RCPT
r = rcpt("hangup")
rid, _ = w.send(r)
d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE")[0]
eq(d["description"], "[4.4.1] deferred (lost connection with 127.0.0.1[127.0.0.1] while sending RCPT TO)", "hang-up")
# a long EHLO reply: the extension in its last line still counts
r = rcpt("longehlo")
rid, raw = w.send(r)
ev.wait(rid, "DELIVERED", "OK")
mail = [x for x in peers["longehlo"].sessions[0] if x.startswith("MAIL")][0]
eq(mail, "MAIL FROM:<sender@example.com> SIZE=%d" % len(raw), "SIZE announced in the 42nd EHLO line was used")
check(w.prog.alive(), "the worker survived every peer")
w.stop()
done()
