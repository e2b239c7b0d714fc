"""txmail-bounce is idempotent. The same inbound envelope delivered twice
(published again, as the broker redelivers it) gives one event (same tag),
one webhook tag, one suppression entry; a reply or a complaint delivered
again after it was handled is forwarded once (txmail-deliver's record
keyed by data.id). The
same DSN sent twice over SMTP (a remote MTA that sends it again: two
inbound messages) gives one event too (the event key derives from the
report's own Message-ID), while a second, different report about the
same message is an event of its own."""
from txtest import *
from txevents import new_job_id
from bouncetest import *

hook = WebhookReceiver()
fwd = uniq("replies") + "@example.com"
a = tenant(hook, settings={"replyForward": fwd})
to = uniq("twice") + "@example.net"
rid = send(a, to)
verp, mid, _ = delivered(rid, to)


def inbound_envelope(raw, rcpt, jid):
    data = {"peer": "192.0.2.1", "helo": "mx.isp.example", "tls": None, "mailFrom": "",
            "rcpt": [{"address": rcpt, "kind": "verp", "rid": rid}]}
    return envelope(jid, ["bounce"], data, typ="inbound", account=a["id"], raw=raw, created=int(time.time() * 1000))


# one inbound message delivered twice: the same envelope published again
report = dsn(to, mid, status=b"5.1.1", diag=b"550 5.1.1 user unknown")
jid = new_job_id()
body = inbound_envelope(report, verp, jid)
publish("txmail.work", "bounce", body)
publish("txmail.work", "bounce", body)
wait_until(lambda: len(log_lines(jid + ": rid=")) >= 2, 30, "both copies handled")
eq(outcome_of(jid), ["bounced", "bounced"], "both copies processed")
time.sleep(2)
ev = events(rid, "BOUNCED")
eq(len(ev), 1, "one event row for the redelivered inbound message")
hooks = wait_until(lambda: [x for _, x, _ in hook.notifications() if x["meta"]["event"]["type"] == "BOUNCED"], 30,
                   "the webhook")
eq(set(x["meta"]["tag"] for x in hooks), {ev[0]["tag"]}, "every webhook of it carries the one tag")
eq(len(sql("SELECT 1 FROM suppression WHERE account_id=%s AND address=%s", a["id"], to)), 1, "one suppression entry")

# the same DSN sent twice over SMTP: two inbound messages, one event
to2 = uniq("twice") + "@example.net"
rid2 = send(a, to2)
verp2, mid2, _ = delivered(rid2, to2)
report2 = dsn(to2, mid2, status=b"5.1.1", diag=b"550 5.1.1 user unknown")
in1 = smtp([verp2], report2)
in2 = smtp([verp2], report2)
check(in1 != in2, "two inbound ids")
eq(outcome_of(in1) + outcome_of(in2), ["bounced", "bounced"], "both processed")
wait_event(rid2, "BOUNCED")
time.sleep(2)
eq(len(events(rid2, "BOUNCED")), 1, "the same DSN twice: one event")
# another report (its own Message-ID) about the same message: an event of its own
smtp([verp2], report2.replace(b"<ee002222.2200eeaa.2002f.e222.NYAAN@mx.google.com>", b"<other@mx.example>"))
wait_event(rid2, "BOUNCED", 2)
eq(len(sql("SELECT 1 FROM suppression WHERE account_id=%s AND address=%s", a["id"], to2)), 1,
   "one suppression entry")

# a reply delivered again after it was handled (the worker died before its ack): forwarded once
rj = new_job_id()
rbody = inbound_envelope(reply(to, verp, mid), verp, rj)
publish("txmail.work", "bounce", rbody)
wait_until(lambda: forwards_to(fwd), 60, "the forward")
publish("txmail.work", "bounce", rbody)
wait_until(lambda: len(log_lines(rj + ": rid=")) >= 2, 30, "the second copy of the reply handled")
eq(outcome_of(rj), ["forwarded", "forwarded"], "both copies asked for the forward")
time.sleep(3)
eq(len(forwards_to(fwd)), 1, "the reply reached the sink once")

# a complaint delivered again: one FEEDBACK_LOOP event, one forward
cj = new_job_id()
cbody = inbound_envelope(arf(to, mid), verp, cj)
publish("txmail.work", "bounce", cbody)
wait_until(lambda: len(forwards_to(fwd)) >= 2, 60, "the complaint's forward")
publish("txmail.work", "bounce", cbody)
wait_until(lambda: len(log_lines(cj + ": rid=")) >= 2, 30, "the second copy of the complaint handled")
wait_event(rid, "FEEDBACK_LOOP")
time.sleep(3)
eq(len(events(rid, "FEEDBACK_LOOP")), 1, "one complaint event")
eq(len(forwards_to(fwd)), 2, "the complaint forwarded once (the reply and the complaint)")
done()
