"""txmail-smtpd end to end: the SMTP adapter sample, submitted with STARTTLS +
AUTH, arrives at the sink DKIM-signed (independent verifier) without any
X-RETARUS-M4A-* or Bcc: header; its headers drive the notifications (the
webhook gets them with the custom headers, Basic credentials, reference, cost
center and campaign id) and the message rows; a suppressed recipient is
accepted at RCPT and ends with its PRE_PROCESS drop. Needs the render,
deliver, recorder and notify workers: skipped (with a message) while one of
them is not built."""
import base64

from txtest import *
from smtpdtest import *

missing = [p for p in ("txmail-render", "txmail-deliver", "txmail-recorder", "txmail-notify")
           if not os.path.exists(os.path.join(BIN, p))]
if missing:
    log("SKIP: end-to-end case needs %s (not built yet)" % ", ".join(missing))
    done()

hook = WebhookReceiver()
dom = uniq("s411") + ".test"
acct = new_account(domain=dom)
stack("publish-dns")  # the new domain's DKIM key
sender = "sender@" + dom
rcpt = uniq("e2e") + "@example.test"
dropped = uniq("supp") + "@example.test"
sql("INSERT INTO suppression (account_id, address, type, created_at, expires_at, lifetime_s, reason) VALUES "
    "(%s, %s, 'PREVIOUSLY_BOUNCED', UTC_TIMESTAMP(3), DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 1 DAY), 3888000, "
    "'[5.1.1] user unknown')", acct["id"], dropped)

eml = sample("smtp-adapter-headers.eml").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
eml = eml.replace(b"sender@example.com", sender.encode()).replace(b"recipient@example.com", rcpt.encode())
eml = eml.replace(b"https://receiver.example.com/retarus", hook.url.encode())
eml = eml.replace(b"MIME-Version: 1.0\r\n", b"Bcc: hidden@example.test\r\nMIME-Version: 1.0\r\n")
check(b"X-RETARUS-M4A-NOTIFICATION-URL: " + hook.url.encode() in eml, "sample prepared")

c = Raw()
c.login(acct["user"], acct["password"])
res = transaction(c, sender, [rcpt, dropped], eml)
eq([r[0] for r in res], [250, 250, 250, 354, 250], "accepted, the suppressed recipient too")
jid = queued_id(res[-1][1])
c.close()

meta, raw = sink_wait(rcpt, timeout=60)[0]
check(dkim_verify(raw), "DKIM signature verifies")
check(b"X-RETARUS" not in raw.upper(), "no X-RETARUS-M4A-* header at the sink")
check(b"Bcc:" not in raw and b"hidden@example.test" not in raw, "no Bcc: at the sink")
check(re.search(rb"Received: from client\.example\.test \(\[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.[23] ", raw),
      "our Received: header is there")
check(raw.rstrip(b"\r\n").endswith(b"hello world"), "the body as submitted")
eq(meta["mailFrom"].split("@")[-1], dom, "envelope sender domain at the sink")
eq(sink_for(dropped), [], "the suppressed recipient gets nothing")


def posted(type_, rid):
    return [(m, n, r) for m, n, r in hook.notifications()
            if n["meta"]["event"]["type"] == type_ and n["meta"]["mail"]["id"] == rid]


rid0, rid1 = jid + "#00000000#00000000", jid + "#00000001#00000001"
m, n, r = wait_until(lambda: posted("DELIVERED", rid0), 90, "the DELIVERED notification")[0]
eq((m["jobId"], m["referenceJob"], m["costCenter"], m["campaignId"]),
   (jid, "ref-0001", "cost-center", "campaign-id"), "notification meta echoes the headers")
eq(n["meta"]["mail"]["from"], sender, "meta.mail.from is the envelope sender")
hdrs = {k.lower(): v for k, v in r["headers"].items()}
eq((hdrs.get("key-1"), hdrs.get("key-2")), ("value-1", "value-2"), "custom notification headers")
eq(hdrs.get("authorization"), "Basic " + base64.b64encode(b"RT_MailNotif:secret").decode(), "Basic credentials")
m, n, r = wait_until(lambda: posted("DROPPED", rid1), 60, "the drop notification")[0]
eq((n["meta"]["event"]["phase"], n["meta"]["event"]["subType"]), ("PRE_PROCESS", "PREVIOUSLY_BOUNCED"),
   "the suppressed recipient is dropped at PRE_PROCESS")
rows = wait_until(lambda: (lambda rs: rs if len(rs) == 2 and all(x[1] for x in rs) else None)(
    sql("SELECT rid, final_at, last_type, reference FROM message WHERE job_id=%s ORDER BY rid", jid)), 60,
    "both message rows final")
eq([x[2] for x in rows], ["DELIVERED", "DROPPED"], "message rows: delivered and dropped")
row = job_row(jid)
eq((row["reference_job"], row["cost_center"], row["campaign_id"]), ("ref-0001", "cost-center", "campaign-id"),
   "job row")
hook.stop()
done()
