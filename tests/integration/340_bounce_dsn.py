"""txmail-bounce, end to end: a message sent through txmail-rest to the sink
(250, DELIVERED), then a DSN for it (corpus sample rfc3464-51 with the real
VERP address as envelope recipient and our Message-ID in the returned
headers) sent over SMTP to the inbound listener -> one
POST_PROCESS/POST_DELIVERY/BOUNCED/HARD_BOUNCE event of the right recipient
id with the classification (content.bounce, the same as
txmail-bounce-classify says of the same bytes) and the §10.2-style
description, a PREVIOUSLY_BOUNCED suppression entry for 45 days, the
webhook received, the delivery state still DELIVERED, stats bounced +1, and
the next job to the address answered as suppressed. A DSN reaching only a
role address finds the message by its Message-ID; a delay notification
changes nothing."""
import subprocess
import tempfile

from txtest import *
from txevents import ms_of
from bouncetest import *
import txstats

hook = WebhookReceiver()
a = tenant(hook)
to = uniq("gone") + "@example.net"
rid = send(a, to)
verp, mid, _ = delivered(rid, to)
check(verp.endswith("@" + a["bounce"]) and verp.startswith("b1"), "the sink saw the VERP MAIL FROM %s" % verp)
eq(mid, "<%s@txmail.test>" % rid, "our Message-ID carries the recipient id")
_, before = txstats.stats(a, "15m")

msg = dsn(to, mid, diag=b"550 5.1.1 <%s>: Recipient address rejected: User unknown" % to.encode(),
          status=b"5.1.1")
inbound = smtp([verp], msg)
ev = wait_event(rid, "BOUNCED")
eq(len(ev), 1, "one BOUNCED event")
e = ev[0]
eq((e["phase"], e["state"], e["type"], e["subType"], e["account"]),
   ("POST_PROCESS", "POST_DELIVERY", "BOUNCED", "HARD_BOUNCE", a["id"]), "asynchronous bounce of a delivered message")
n = e["notification"]
eq(n["meta"]["mail"]["id"], rid, "the right recipient id")
eq(n["meta"]["mail"]["email"], to, "mail.email")
eq(n["meta"]["mail"]["from"], "Shop <%s>" % a["sender"], "mail.from")
eq(n["content"]["mime"]["messageId"], mid, "content.mime.messageId")
b = n["content"]["bounce"]
eq((b["reason"], b["hardBounce"], b["status"], b["replyCode"]), ("userunknown", True, "5.1.1", 550),
   "classification: userunknown, hard, 5.1.1, 550")
check(b["diagnostic"].startswith("550 5.1.1 <%s>" % to), "diagnostic: %s" % b["diagnostic"])
check(b["format"], "format named: %s" % b["format"])
with tempfile.NamedTemporaryFile(suffix=".eml") as f:
    f.write(msg)
    f.flush()
    cls = subprocess.run([os.path.join(BIN, "txmail-bounce-classify"), f.name], capture_output=True)
row = cls.stdout.decode().splitlines()[1].split("\t")
eq((row[1], row[2], row[3], row[4], row[5]), (to, b["status"], b["reason"], "1", "550"),
   "the same classification as txmail-bounce-classify")
check(re.fullmatch(r"\[5\.1\.1\] bounced \((host \S+ said: )?550 5\.1\.1 .*\)", e["description"]) is not None,
      "description in the 10.2 style: %s" % e["description"])
check(re.fullmatch(r"[0-9a-f]{32}\.\d+", e["key"]) is not None, "eventKey from the inbound id: %s" % e["key"])

s = wait_until(lambda: supp(a["id"], to), 20, "the suppression entry")
eq((s[0], s[4]), ("PREVIOUSLY_BOUNCED", rid), "PREVIOUSLY_BOUNCED for the recipient id")
eq(round((ms_of(s[2]) - ms_of(s[1])) / 86400000.0, 3), 45.0, "expires 45 days after the bounce")
eq(s[3], e["description"], "reason = the event's description")

posted = wait_until(lambda: [x for _, x, _ in hook.notifications() if x["meta"]["event"]["type"] == "BOUNCED"], 30,
                    "the BOUNCED webhook")
eq(posted[0]["meta"]["tag"], e["tag"], "webhook: the event's tag")
eq(posted[0]["content"]["bounce"], b, "webhook: content.bounce")
eq(posted[0]["meta"]["event"]["phase"], "POST_PROCESS", "webhook: phase")
eq(payload_errors(hook), [], "the webhook payloads are valid against docs/openapi.json")

st, _, _, m = rest("GET", "/email/v2/messages/" + rid.replace("#", "%23"), auth=(a["user"], a["password"]))
eq((st, m["lastEvent"]["type"]), (200, "DELIVERED"), "the delivery state stays DELIVERED")
check(any(x["meta"]["event"]["type"] == "BOUNCED" and x["content"]["bounce"] == b for x in m["events"]),
      "GET /messages shows the bounce with its classification")
line = [l for l in log_lines(inbound + ": ") if "status=bounced" in l][0]
check(("rid=%s, kind=dsn" % rid) in line and "userunknown" in line, "log line: " + line)


def bounced_more():
    _, now = txstats.stats(a, "15m")
    return now if now["totals"]["bounced"].get("HARD_BOUNCE", 0) >= before["totals"]["bounced"].get("HARD_BOUNCE", 0) + 1 \
        else None


wait_until(bounced_more, 30, "stats: bounced.HARD_BOUNCE + 1")

# the next job to the address: refused at intake as previously bounced
body = {"subject": {"content": "again"}, "mail": {"from": {"email": a["sender"]}},
        "recipients": [{"mail": {"to": [{"email": to}]}}]}
st, _, _, j = rest("POST", "/email/v2/jobs", body=body, auth=(a["user"], a["password"]))
eq((st, j["meta"]["state"]["subType"]), (200, "PART"), "the next job to the address is PART")
eq(j["content"]["recipients"][0]["mail"]["to"][0]["validationResult"]["classifier"], "PREVIOUSLY_BOUNCED",
   "the address is suppressed")

# a DSN to a role address: the message is found by the returned Message-ID (within the account)
to2 = uniq("full") + "@example.net"
rid2 = send(a, to2)
_, mid2, _ = delivered(rid2, to2)
smtp(["postmaster@" + a["bounce"]],
     dsn(to2, mid2, diag=b"552 5.2.2 <%s>: mailbox full" % to2.encode(), status=b"5.2.2"))
e2 = wait_event(rid2, "BOUNCED")[0]
eq(e2["notification"]["content"]["bounce"]["status"], "5.2.2", "found by Message-ID: status 5.2.2")
s2 = wait_until(lambda: supp(a["id"], to2), 20, "the mailbox-full entry")
eq((s2[0], round((ms_of(s2[2]) - ms_of(s2[1])) / 3600000.0)), ("TEMPORARY_SUPPRESSED", 24),
   "mailbox full: TEMPORARY_SUPPRESSED for 1 day")

# a delay notification: logged, nothing changes
to3 = uniq("slow") + "@example.net"
rid3 = send(a, to3)
verp3, mid3, _ = delivered(rid3, to3)
in3 = smtp([verp3], dsn(to3, mid3, action=b"delayed", status=b"4.4.7", diag=b"451 4.4.7 try again later"))
eq(outcome_of(in3), ["ignored"], "the delay notification is ignored")
eq(events(rid3, "BOUNCED"), [], "no BOUNCED event for a delay")
eq(supp(a["id"], to3), None, "no suppression for a delay")
done()
