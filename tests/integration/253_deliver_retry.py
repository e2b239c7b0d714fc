"""txmail-deliver retries: 4xx then 2xx -> DEFERRED (eventKey 1, 2) then
DELIVERED, sent once; the peer dropping the connection mid-DATA ->
DEFERRED [4.4.1] and another try; a peer slower than the RCPT timeout ->
DEFERRED [4.4.1] "conversation timed out"; retries past deliver_max_age ->
BOUNCED/SOFT_BOUNCE with x.suppress TEMPORARY_SUPPRESSED for a day and no
DEFERRED event for the last try."""
import re

from dlvtest import *
from txtest import *

ev = Events()
w = Worker("deliver_retry_schedule=1s", "deliver_max_age=1h")

# 451 at RCPT twice, then accepted
r1 = "defer2-" + uniq("a") + "@example.net"
rid1, raw1 = w.send(r1)
d1 = ev.wait(rid1, "DELIVERED", "OK", timeout=30)[0]
evs = ev.of(rid1)
eq([(e["type"], e["eventKey"]) for e in evs], [("DEFERRED", "1"), ("DEFERRED", "2"), ("DELIVERED", "1")],
   "DEFERRED 1, DEFERRED 2, DELIVERED")
eq(evs[0]["description"], "[4.3.0] deferred (host mx.example.net[127.0.0.1] said: 451 4.3.0 <%s>: "
   "temporarily deferred by test sink)" % r1, "deferral description")
eq((evs[0]["state"], evs[0]["subType"], evs[0]["smtpCode"]), ("INTERMEDIATE", "SOFT_BOUNCE", "451"), "deferral event")
eq([e["tag"] for e in evs], [tag(rid1, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", "1"),
                             tag(rid1, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", "2"),
                             tag(rid1, "DELIVER", "FINISHED", "DELIVERED", "OK")], "tags per contract 11.5")
check(evs[1]["ts_ms"] - evs[0]["ts_ms"] >= 900, "the retry waited for its delay tier (%d ms)" % (evs[1]["ts_ms"] - evs[0]["ts_ms"]))
eq(len(sink_wait(r1, 1, 5)), 1, "delivered once")
time.sleep(0.5)
eq(len(sink_for(r1)), 1, "still once")

# the peer closes the connection during DATA: a deferral without a reply, then another try
r2 = "drop-" + uniq("b") + "@example.net"
rid2, _ = w.send(r2)
defs = ev.wait(rid2, "DEFERRED", "SOFT_BOUNCE", count=2, timeout=30)
check(re.fullmatch(r"\[4\.4\.1\] deferred \(lost connection with mx\.example\.net\[127\.0\.0\.1\] while sending "
                   r"(message body|end of data -- message may be sent more than once)\)", defs[0]["description"])
      is not None, "mid-DATA drop description: " + defs[0]["description"])
check("smtpCode" not in defs[0], "no smtpCode without a reply")
eq([e["eventKey"] for e in defs[:2]], ["1", "2"], "tried again")
eq(sink_for(r2), [], "nothing stored for a dropped transaction")
w.stop()

# per-phase timeout: the peer takes 3 s to answer RCPT, the worker waits 1 s
wt = Worker("deliver_rcpt_timeout=1s", "deliver_retry_schedule=1m")
rt = "slow3-" + uniq("t") + "@example.net"
t0 = time.time()
ridt, _ = wt.send(rt)
dt = ev.wait(ridt, "DEFERRED", "SOFT_BOUNCE")[0]
eq(dt["description"], "[4.4.1] deferred (conversation timed out with mx.example.net[127.0.0.1] while sending RCPT TO)",
   "RCPT timeout description")
check(time.time() - t0 < 2.9, "gave up after the RCPT timeout, before the peer answered")
wt.stop()

# past the maximum age: the last try bounces (soft) and suppresses for a day
w2 = Worker("deliver_retry_schedule=1s", "deliver_max_age=4s")
r3 = "datafail-" + uniq("c") + "@example.net"
rid3, _ = w2.send(r3, created=int(time.time() * 1000) - 1000)
f = ev.wait(rid3, "BOUNCED", "SOFT_BOUNCE", timeout=30)[0]
time.sleep(0.5)
evs3 = ev.of(rid3)
types = [(e["type"], e["eventKey"]) for e in evs3]
ndef = len([t for t in types if t[0] == "DEFERRED"])
check(ndef >= 1, "deferred before expiring (%r)" % types)
eq(types, [("DEFERRED", str(i + 1)) for i in range(ndef)] + [("BOUNCED", "1")],
   "DEFERRED 1..n then BOUNCED/SOFT_BOUNCE, no DEFERRED for the last try")
eq((f["phase"], f["state"]), ("DELIVER", "FINISHED"), "final")
eq(f["tag"], tag(rid3, "DELIVER", "FINISHED", "BOUNCED", "SOFT_BOUNCE"), "tag")
eq(f["description"], "[4.3.0] bounced (host mx.example.net[127.0.0.1] said: 451 4.3.0 Error: queue file write "
   "error (test sink))", "the last reply as the bounce description")
eq(f["smtpCode"], "451", "smtpCode of the last try")
eq(f["x"]["suppress"], {"address": r3.lower(), "type": "TEMPORARY_SUPPRESSED", "lifetime_s": 86400,
                        "reason": f["description"]}, "x.suppress: TEMPORARY_SUPPRESSED, 1 day")
check(re.search(re.escape(rid3) + r": to=<.*status=expired", w2.log()) is not None, "expiry logged")
time.sleep(1.5)
eq(len(ev.of(rid3)), len(evs3), "nothing after the final event")
eq(sink_for(r3), [], "never stored")
w2.stop()
done()
