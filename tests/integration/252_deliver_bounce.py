"""txmail-deliver: 5xx replies -> DELIVER/FINISHED/BOUNCED/HARD_BOUNCE with
the suppression class of contract 13.1 (5.1.1: 45 days; 5.7.1 at RCPT and
5.6.0 after DATA: 7 days; excluded codes: none); nothing reaches the sink;
a malformed message is dead-lettered and the worker keeps running."""
import re

from dlvtest import *
from txtest import *

ev = Events()


def bounce_of(rid):
    b = ev.wait(rid, "BOUNCED", "HARD_BOUNCE")[0]
    eq((b["phase"], b["state"], b["eventKey"]), ("DELIVER", "FINISHED", "1"), "final event, key 1")
    eq(b["tag"], tag(rid, "DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE"), "tag")
    return b


# 550 5.1.1 at RCPT: unknown user, 45 days
r1 = "Unknown-" + uniq("u") + "@example.net"
rid1, _ = send(r1)
b1 = bounce_of(rid1)
eq(b1["description"], "[5.1.1] bounced (host mx.example.net[127.0.0.1] said: 550 5.1.1 <%s>: "
   "Recipient address rejected: User unknown)" % r1, "description of a RCPT 5xx")
eq(b1["smtpCode"], "550", "smtpCode")
eq(b1["x"]["suppress"], {"address": r1.lower(), "type": "PREVIOUSLY_BOUNCED", "lifetime_s": 45 * 86400,
                         "reason": b1["description"]}, "x.suppress: lowercased address, 45 days")

# 554 5.7.1 at RCPT: another hard bounce, 7 days
r2 = "reject-" + uniq("r") + "@example.net"
rid2, _ = send(r2)
b2 = bounce_of(rid2)
check(b2["description"].startswith("[5.7.1] bounced (host mx.example.net[127.0.0.1] said: 554 5.7.1"), b2["description"])
eq((b2["x"]["suppress"]["type"], b2["x"]["suppress"]["lifetime_s"]), ("PREVIOUSLY_BOUNCED", 7 * 86400), "5.7.1 suppressed 7 days")

# 554 5.6.0 after the final dot
r3 = "dataperm-" + uniq("d") + "@example.net"
rid3, _ = send(r3)
b3 = bounce_of(rid3)
eq(b3["description"], "[5.6.0] bounced (host mx.example.net[127.0.0.1] said: 554 5.6.0 Error: message content "
   "rejected (test sink))", "description of a 5xx after DATA")
eq(b3["smtpCode"], "554", "smtpCode after DATA")
eq(b3["x"]["suppress"]["lifetime_s"], 7 * 86400, "5.6.0 suppressed 7 days")
check(no_message(r1, 0.5) and no_message(r2, 0) and no_message(r3, 0), "no bounced message at the sink")
eq(sql("SELECT COUNT(*) FROM delivery_record WHERE rid IN (%s,%s,%s)", rid1, rid2, rid3)[0][0], 0,
   "no delivery_record for bounces")
eq([e["type"] for e in ev.of(rid1)], ["BOUNCED"], "a bounce is the only event")

# an operator-excluded code is bounced but not suppressed
w = Worker("suppress_exclude=5.7.*, 5.3.4")
r4 = "reject-" + uniq("x") + "@example.net"
rid4, _ = w.send(r4)
b4 = bounce_of(rid4)
check("x" not in b4, "excluded code: no x.suppress")
r5 = "unknown-" + uniq("y") + "@example.net"
rid5, _ = w.send(r5)
check("suppress" in bounce_of(rid5)["x"], "codes not excluded are still suppressed")

# malformed messages (no rcpt; no content) go to the dead letters, the worker lives on
jid, rid6 = new_ids()
bad = json.dumps({"v": 1, "type": "message", "job": jid, "rid": rid6, "account": 1, "slip": [w.queue],
                  "attempt": 0, "deferrals": 0, "created": int(time.time() * 1000), "data": {"mailFrom": "a@b.c"},
                  "raw_len": 0}).encode() + b"\n"
publish("txmail.work", w.queue, bad)
wait_until(lambda: rid6 in w.log() and "dead-letter" in w.log(), 15, "the malformed message dead-lettered")
check(re.search(re.escape(rid6) + r": status=dead-letter \(message without rid, data.rcpt or raw content\)", w.log())
      is not None, "dead-letter reason logged")
eq(ev.of(rid6), [], "no event for a malformed message")
r7 = uniq("after") + "@example.net"
rid7, raw7 = w.send(r7)
eq(sink_wait(r7, 1, 30)[0][1], raw7, "the worker still delivers afterwards")
check(w.prog.alive(), "worker alive")
w.stop()
done()
