"""txmail-spamcheck for SMTP jobs: they use the account's defaults
(settings.defaults.spamCheck, spamMode, spamThreshold; contract §16.4).
- defaults spamCheck on, block-above, threshold 6.5: GTUBE submitted over
  SMTP is dropped (SPAM_DETECTED, nothing at the sink), a normal message is
  delivered with its SPAM_SCORE_CHECK event (threshold 6.5 from the
  account);
- an account whose default is off: delivered, no SPAM_SCORE_CHECK event."""
from txtest import *
from smtpdtest import message, queued_id
from smtpdtest import send as smtp_send
from spamtest import GTUBE, HAM, SSC, events, spamscore, tenant, wait_event

on = tenant(defaults={"spamCheck": True, "spamMode": "block-above", "spamThreshold": 6.5})
off = tenant()
run = uniq("ss").lower()


def submit(acct, to, body):
    code, text = smtp_send(message(acct["sender"], to, "Your order 4711", body.replace("\n", "\r\n")),
                           acct["sender"], [to], user=acct["user"], password=acct["password"])
    eq(code, 250, "submitted (%s)" % text)
    job = queued_id(text)
    return wait_until(lambda: (sql("SELECT rid FROM message WHERE job_id=%s", job) or [[None]])[0][0], 30,
                      "the message row of job %s" % job)


to1 = run + "-gtube@example.net"
r1 = submit(on, to1, "Buy now.\n" + GTUBE + "\n")
to2 = run + "-ham@example.net"
r2 = submit(on, to2, HAM)
to3 = run + "-off@example.net"
r3 = submit(off, to3, "Buy now.\n" + GTUBE + "\n")

d = wait_event(r1, "DROPPED")
eq((d["phase"], d["state"], d["subType"]), ("PROCESS", "FINISHED", "SPAM_DETECTED"), "SMTP GTUBE blocked by the default")
sc = spamscore(wait_event(r1, "SPAM_SCORE_CHECK"))
eq(sc["threshold"], 6.5, "the account's default threshold")
check(sc["score"] > 6.5 and any(r["name"] == "GTUBE" for r in sc["rules"]), "GTUBE scored %r" % sc["score"])

sink_wait(to2)
ev = wait_event(r2, "SPAM_SCORE_CHECK")
eq((ev["phase"], ev["state"], ev["type"], ev["subType"]), SSC, "the normal message's event")
sc = spamscore(ev)
check(sc["score"] < 6.5 and sc["threshold"] == 6.5, "low score under the default threshold: %r" % sc)
eq(events(r2, "DROPPED"), [], "not dropped")

sink_wait(to3)
wait_event(r3, "DELIVERED")
time.sleep(1)
eq(events(r3, "SPAM_SCORE_CHECK"), [], "default off: no spam check")
eq(sink_for(to1), [], "nothing at the sink for the blocked GTUBE")
done()
