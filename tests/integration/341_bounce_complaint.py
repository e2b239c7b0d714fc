"""txmail-bounce, end to end: an ARF complaint (corpus sample arf-21, Feedback-Type
abuse, our Message-ID in the reported message) sent to the VERP address of a
delivered message -> POST_PROCESS/POST_DELIVERY/FEEDBACK_LOOP/COMPLAINT with
content.mime.messageId and content.feedbackLoop.mailDeliveryTs = the delivery
time, eventKey = its ts (contract §11.5), the webhook posted, an UNSUBSCRIBED
suppression entry without end, stats complaints +1, and the report forwarded
by mail to the message's own sender at the sink (not to a Reply-To the
report writes), attached as message/rfc822. An account with replyForward
gets the forward there instead. A complaint to a role address finds the
message by the reported Message-ID."""
import email
import email.policy

from txtest import *
from txevents import iso, ms_of
from bouncetest import *
import txstats

hook = WebhookReceiver()
a = tenant(hook)
to = uniq("angry") + "@example.net"
rid = send(a, to)
verp, mid, _ = delivered(rid, to)
dts = ms_of(sql("SELECT final_at FROM message WHERE rid=%s", rid)[0][0])
_, before = txstats.stats(a, "15m")

report = arf(to, mid).replace(b"From: Neko <sironeko@example.net>",
                              b"From: Neko <sironeko@example.net>\r\nReply-To: attacker@example.org")
inbound = smtp([verp], report)
e = wait_event(rid, "FEEDBACK_LOOP")[0]
eq((e["phase"], e["state"], e["type"], e["subType"]), ("POST_PROCESS", "POST_DELIVERY", "FEEDBACK_LOOP", "COMPLAINT"),
   "the complaint event")
n = e["notification"]
eq(n["meta"]["mail"]["id"], rid, "the right recipient id")
eq(n["content"]["mime"]["messageId"], mid, "content.mime.messageId")
eq(n["content"]["feedbackLoop"]["mailDeliveryTs"], iso(dts), "mailDeliveryTs = the delivery time")
eq(e["key"], n["meta"]["event"]["ts"], "eventKey = the event's ts (11.5)")
check("complaint (abuse)" in (e["description"] or ""), "description names the feedback type: %s" % e["description"])
posted = wait_until(lambda: [x for _, x, _ in hook.notifications() if x["meta"]["event"]["type"] == "FEEDBACK_LOOP"],
                    30, "the FEEDBACK_LOOP webhook")
eq((posted[0]["meta"]["tag"], posted[0]["content"]["feedbackLoop"]), (e["tag"], n["content"]["feedbackLoop"]),
   "webhook: tag and content.feedbackLoop")
eq(payload_errors(hook), [], "the webhook payloads are valid against docs/openapi.json")
check(any(x["meta"]["event"]["type"] == "FEEDBACK_LOOP" for x in message_events(a, rid)["events"]),
      "GET /messages shows the complaint")

s = wait_until(lambda: supp(a["id"], to), 20, "the suppression entry")
eq((s[0], s[2], s[4]), ("UNSUBSCRIBED", None, rid), "UNSUBSCRIBED without end, with the recipient id")
eq(s[3], "complaint (abuse) via feedback loop", "reason")


def complaints_more():
    _, now = txstats.stats(a, "15m")
    return now["totals"]["complaints"] == before["totals"]["complaints"] + 1


wait_until(complaints_more, 30, "stats: complaints + 1")

sender = a["sender"]
fw = wait_until(lambda: forwards_to(sender), 60, "the report forwarded to the message's sender")
eq(len(fw), 1, "one forward")
meta, raw = fw[0]
eq(meta["mailFrom"], "postmaster@" + a["bounce"], "envelope sender: postmaster at the bounce domain")
check(forwards_to("attacker@example.org") == [], "nothing to the Reply-To the report wrote")
m = email.message_from_bytes(raw, policy=email.policy.default)
check(rid in m["Subject"] and "abuse" in m["Subject"], "subject names the complaint: %s" % m["Subject"])
eq(m["Auto-Submitted"], "auto-generated", "Auto-Submitted")
att = [p for p in m.iter_parts() if p.get_content_type() == "message/rfc822"]
eq(len(att), 1, "the report attached as message/rfc822")
check(b"Feedback-Type: abuse" in raw and mid.encode() in raw, "the report is in the forward as received")
line = [l for l in log_lines(inbound + ": rid=") if "status=complaint" in l][0]
check(("rid=%s, kind=feedback" % rid) in line and sender in line, "log line: " + line)

# replyForward set: the forward goes there; the complaint reaches a role address
fwd = uniq("replies") + "@example.com"
b = tenant(settings={"replyForward": fwd})
to2 = uniq("angry") + "@example.net"
rid2 = send(b, to2)
_, mid2, _ = delivered(rid2, to2)
smtp(["abuse@" + b["bounce"]], arf(to2, mid2))
wait_event(rid2, "FEEDBACK_LOOP")
fw2 = wait_until(lambda: forwards_to(fwd), 60, "the report forwarded to replyForward")
check(mid2.encode() in fw2[0][1], "the forward carries the report")
check(forwards_to(b["sender"]) == [], "not to the sender when replyForward is set")
eq(supp(b["id"], to2)[0], "UNSUBSCRIBED", "suppressed")
done()
