"""txmail-smtpd: X-RETARUS-M4A-* headers (contract §17.5) with the exact
replies of §17.3, the features they switch on (account and installation),
attachment file names against forbidden extensions (§4.7), and suppressed or
forbidden recipients accepted at RCPT and marked for their drop (§5.3)."""
from txtest import *
from smtpdtest import *

q = job_queue("t402_jobs")
acct = new_account(domain="example.com", selector=uniq("s"), settings={"forbiddenRecipients": ["admin"]})
sender = "sender@example.com"


def submit(msg, rcpts=("recipient@example.com",), params="", account=acct, port=PORT):
    c = Raw(port=port)
    c.login(account["user"], account["password"])
    res = transaction(c, sender, list(rcpts), msg, params)
    c.close()
    return res[-1]


# ---- the published sample: 250, options and endpoint in the job, headers gone
eml = sample("smtp-adapter-headers.eml").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
code, text = submit(eml)
jid = queued_id(text)
check(code == 250 and jid, "sample accepted: %s" % text)
env, raw = wait_job(q, jid)
d = env["data"]
eq((d["referenceJob"], d["campaignId"], d["costCenter"]), ("ref-0001", "campaign-id", "cost-center"),
   "reference, campaign id, cost center in the job")
eq(d["options"]["antivirus"]["active"], False, "antivirus off (header false)")
eq(d["options"]["traceRecover"]["active"], False, "trace & recover off")
eq(d["options"]["messageSigning"]["active"], False, "signing off")
check(b"X-RETARUS" not in raw.upper(), "no X-RETARUS-M4A-* header left in the job's message")
check(raw.endswith(b"Content-Type: text/plain; charset=UTF-8\r\n\r\nhello world\r\n"), "rest of the message kept")
row = job_row(jid)
eq((row["reference_job"], row["campaign_id"], row["cost_center"]), ("ref-0001", "campaign-id", "cost-center"),
   "reference fields in the acceptance record")
ep = json.loads(row["notification"])
eq(ep["url"], "https://receiver.example.com/retarus", "notification url in the record")
eq(ep["headers"], {"key-1": "value-1", "key-2": "value-2"}, "custom notification headers")
eq((ep["authentication"]["method"], ep["authentication"]["user"]), ("BASIC", "RT_MailNotif"), "notification auth")
pw = ep["authentication"]["password"]
check(pw.startswith("v1:") and "secret" not in pw, "the notification password is stored encrypted")


def with_headers(*hdrs, extra_body=b"body\r\n"):
    h = "".join("%s: %s\r\n" % kv for kv in hdrs)
    return ("From: %s\r\nTo: recipient@example.com\r\nSubject: h\r\n%s\r\n" % (sender, h)).encode() + extra_body


# ---- invalid values and incomplete notification settings
cases = [
    ([("X-RETARUS-M4A-NOTIFICATION-URL", "ftp://example.com/x")],
     "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-URL"),
    ([("X-RETARUS-M4A-NOTIFICATION-URL", "https://r.example.com/" + "a" * 500 + "\r\n " + "a" * 500)],
     "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-URL"),
    ([("X-RETARUS-M4A-NOTIFICATION-URL", "https://r.example.com/"), ("X-RETARUS-M4A-NOTIFICATION-HEADER", "novalue")],
     "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-HEADER"),
    ([("X-RETARUS-M4A-NOTIFICATION-URL", "https://r.example.com/"), ("X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD", "DIGEST")],
     "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD"),
    ([("x-retarus-m4a-reference", "r" * 51)], "554 5.6.0 Invalid value for X-RETARUS-M4A-REFERENCE"),
    ([("X-RETARUS-M4A-COST-CENTER", "c" * 51)], "554 5.6.0 Invalid value for X-RETARUS-M4A-COST-CENTER"),
    ([("X-RETARUS-M4A-CAMPAIGN-ID", "c" * 51)], "554 5.6.0 Invalid value for X-RETARUS-M4A-CAMPAIGN-ID"),
    ([("X-RETARUS-M4A-ANTIVIRUS-ACTIVE", "maybe")], "554 5.6.0 Invalid value for X-RETARUS-M4A-ANTIVIRUS-ACTIVE"),
    ([("X-Retarus-M4A-Trace-Recover-Active", "1")], "554 5.6.0 Invalid value for X-RETARUS-M4A-TRACE-RECOVER-ACTIVE"),
    ([("X-RETARUS-M4A-NOTIFICATION-AUTH-USER", "u" * 101), ("X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD", "BASIC")],
     "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-AUTH-USER"),
    ([("X-RETARUS-M4A-NOTIFICATION-HEADER", "k=v")],
     "554 5.6.0 Missing mandatory value for X-RETARUS-M4A-NOTIFICATION-URL"),
    ([("X-RETARUS-M4A-NOTIFICATION-URL", "https://r.example.com/"), ("X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD", "BASIC"),
      ("X-RETARUS-M4A-NOTIFICATION-AUTH-PASSWORD", "p")],
     "554 5.6.0 Missing mandatory value for X-RETARUS-M4A-NOTIFICATION-AUTH-USER"),
    ([("X-RETARUS-M4A-NOTIFICATION-URL", "https://r.example.com/"), ("X-RETARUS-M4A-NOTIFICATION-AUTH-USER", "u")],
     "554 5.6.0 Missing mandatory value for X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD"),
    ([("X-RETARUS-M4A-TRACE-RECOVER-ACTIVE", "TRUE")],
     "550 5.7.1 Unsupported value for X-RETARUS-M4A-TRACE-RECOVER-ACTIVE"),
    ([("X-RETARUS-M4A-ANTIVIRUS-ACTIVE", "true")], "550 5.7.1 Unsupported value for X-RETARUS-M4A-ANTIVIRUS-ACTIVE"),
    ([("X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE", "true")],
     "550 5.7.1 Unsupported value for X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE"),
]
c = Raw()
c.login(acct["user"], acct["password"])
for hdrs, want in cases:
    res = transaction(c, sender, ["recipient@example.com"], with_headers(*hdrs))
    eq(res[-1][1], want, "refusal for %s" % ", ".join(k for k, _ in hdrs))
# a second occurrence is refused (issue 11: a later reader may take the other one)
res = transaction(c, sender, ["recipient@example.com"], with_headers(
    ("X-RETARUS-M4A-REFERENCE", "first"), ("x-retarus-m4a-reference", "r" * 80)))
eq(res[-1][1], "550 5.6.0 Duplicate header field X-RETARUS-M4A-REFERENCE", "a control header twice")
# unknown ones are removed, folding is undone
res = transaction(c, sender, ["recipient@example.com"], with_headers(
    ("X-RETARUS-M4A-REFERENCE", "first"),
    ("X-Retarus-M4A-Unknown-Thing", "whatever"), ("X-RETARUS-M4A-COST-CENTER", "cost\r\n  center"),
    ("X-RETARUS-M4A-CAMPAIGN-ID", "=?UTF-8?Q?Fr=C3=BChling?=")))
jid = queued_id(res[-1][1])
check(jid, "unknown headers accepted")
c.close()
env, raw = wait_job(q, jid)
eq((env["data"]["referenceJob"], env["data"]["costCenter"], env["data"]["campaignId"]),
   ("first", "cost  center", "Fr\u00fchling"), "reference, unfolded, RFC 2047 decoded")
check(b"Unknown-Thing" not in raw, "unknown X-RETARUS-M4A-* header removed")
eq(job_row(jid)["notification"], None, "no endpoint without notification headers")

# ---- a feature the account allows but the installation does not run, then one that runs it
tr_acct = new_account(domain="example.com", selector=uniq("s"), settings={"features": {"traceRecover": True, "antivirus": True}})
tls = ("smtpd_tls_cert_file=" + E["TXMAIL_TLS_CA"], "smtpd_tls_key_file=" + E["TXMAIL_STACK_DIR"] + "/tls/key.pem")
np, nport = private_smtpd("smtpd_stages=render,deliver", *tls, name="smtpd-private-nostage")
code, text = submit(with_headers(("X-RETARUS-M4A-TRACE-RECOVER-ACTIVE", "true")), account=tr_acct, port=nport)
eq(text, "550 5.7.1 Unsupported value for X-RETARUS-M4A-TRACE-RECOVER-ACTIVE",
   "trace & recover allowed but no scan stage in this installation")
np.stop()
p, port = private_smtpd("smtpd_stages=scan,render,deliver", "smtpd_tls_cert_file=" + E["TXMAIL_TLS_CA"],
                        "smtpd_tls_key_file=" + E["TXMAIL_STACK_DIR"] + "/tls/key.pem")
sq = "t402_scan"
declare_queue(sq, "txmail.work", "scan")
drain(sq)
code, text = submit(with_headers(("X-RETARUS-M4A-TRACE-RECOVER-ACTIVE", "true")), account=tr_acct, port=port)
jid = queued_id(text)
check(jid, "accepted where the scan stage runs: %s" % text)
env, raw = wait_job(sq, jid)
eq(env["slip"], ["scan", "render", "deliver"], "slip starts with scan")
eq((env["data"]["options"]["traceRecover"]["active"], env["data"]["options"]["antivirus"]["active"]), (True, True),
   "trace & recover switches the scan on")
eq(job_row(jid)["slip"], "scan,render,deliver", "slip in the record")
# take that job out of the shared scan queue again (no other case should meet it)
conn = amqp()
ch = conn.channel()
while True:
    m, props, body = ch.basic_get("scan")
    if m is None:
        break
    if parse_envelope(body)[0]["job"] == jid:
        ch.basic_ack(m.delivery_tag)
    else:
        ch.basic_nack(m.delivery_tag, requeue=True)
        break
conn.close()
c = Raw(port=port)
c.login(tr_acct["user"], tr_acct["password"])
eq(c.cmd("DATA")[1], "503 5.5.1 Bad sequence of commands", "private instance answers")
c.close()
p.stop()
delete_queue(sq)

# ---- attachments with forbidden extensions
def attachment_msg(disposition, ctype="application/octet-stream"):
    return ("From: %s\r\nTo: recipient@example.com\r\nSubject: att\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"BND\"\r\n\r\n--BND\r\nContent-Type: text/plain\r\n\r\nsee file\r\n"
            "--BND\r\nContent-Type: %s\r\n%sContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--BND--\r\n"
            % (sender, ctype, disposition)).encode()


c = Raw()
c.login(acct["user"], acct["password"])
for disp, ctype, name in [
        ("Content-Disposition: attachment; filename=\"invoice.exe\"\r\n", "application/octet-stream", "invoice.exe"),
        ("Content-Disposition: attachment; filename=\"Invoice.PDF.ScR\"\r\n", "application/octet-stream",
         "Invoice.PDF.ScR"),
        ("Content-Disposition: attachment;\r\n filename*=UTF-8''rechnung%C3%BC.bat\r\n", "application/x", "rechnung??.bat"),
        ("", "application/x; name=\"=?UTF-8?B?c2V0dXAuanM=?=\"", "setup.js"),
        ("Content-Disposition: attachment; filename*0=\"part\"; filename*1=\"ial.vbs\"\r\n", "application/x",
         "partial.vbs"),
        ("Content-Disposition: attachment; filename=\"trailing.exe. \"\r\n", "application/x", "trailing.exe. ")]:
    res = transaction(c, sender, ["recipient@example.com"], attachment_msg(disp, ctype))
    eq(res[-1][1], "550 5.7.1 Unsupported value for attachment " + name, "forbidden attachment %s" % name)
res = transaction(c, sender, ["recipient@example.com"],
                  attachment_msg("Content-Disposition: attachment;\r\n filename*=UTF-8''%C3%BCber.exe\r\n"),
                  "SMTPUTF8")
eq(res[-1][1], "550 5.7.1 Unsupported value for attachment \u00fcber.exe", "UTF-8 name in the reply with SMTPUTF8")
res = transaction(c, sender, ["recipient@example.com"],
                  attachment_msg("Content-Disposition: attachment; filename=\"report.pdf\"\r\n", "application/pdf"))
check(queued_id(res[-1][1]), "an allowed attachment is accepted")
c.close()
pdf_acct = new_account(domain="example.com", selector=uniq("s"), settings={"forbiddenExtensions": ["pdf"]})
code, text = submit(attachment_msg("Content-Disposition: attachment; filename=\"report.pdf\"\r\n"), account=pdf_acct)
eq(text, "550 5.7.1 Unsupported value for attachment report.pdf", "the account's own forbidden list")

# ---- suppressed and forbidden recipients: 250 at RCPT, dropped in the job
now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
sql("INSERT INTO suppression (account_id, address, type, created_at, expires_at, lifetime_s, reason) VALUES "
    "(%s, 'bounced@example.test', 'PREVIOUSLY_BOUNCED', '2026-01-02 03:04:05.678', DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 1 DAY), 3888000, "
    "'[5.1.1] user unknown'), "
    "(%s, 'manual@example.test', 'MANUAL', '2026-01-03 00:00:00.000', NULL, NULL, 'asked'), "
    "(%s, 'expired@example.test', 'TEMPORARY_SUPPRESSED', '2020-01-01 00:00:00.000', '2020-01-02 00:00:00.000', 86400, 'old')",
    acct["id"], acct["id"], acct["id"])
c = Raw()
c.login(acct["user"], acct["password"])
res = transaction(c, sender, ["ok@example.test", "Bounced@Example.TEST", "manual@example.test", "ADMIN@example.test",
                              "expired@example.test"], with_headers())
eq([r[1] for r in res[1:6]], ["250 2.1.5 Ok"] * 5, "every recipient accepted at RCPT")
jid = queued_id(res[-1][1])
check(jid, "queued")
c.close()
env, raw = wait_job(q, jid)
drops = [(r["email"], r["drop"]) for r in env["data"]["recipients"]]
eq(drops[0], ("ok@example.test", None), "a plain recipient is not dropped")
eq(drops[1], ("Bounced@Example.TEST", {"subType": "PREVIOUSLY_BOUNCED",
                                        "description": 'ts="2026-01-02T03:04:05.678Z", reason="[5.1.1] user unknown"',
                                        "suppression": {"type": "PREVIOUSLY_BOUNCED", "address": "bounced@example.test"}}),
   "suppressed after a bounce (address compared case-insensitively)")
eq(drops[2], ("manual@example.test", {"subType": "SUPPRESSED",
                                       "description": 'type="MANUAL", ts="2026-01-03T00:00:00.000Z", reason="asked"',
                                       "suppression": {"type": "MANUAL", "address": "manual@example.test"}}),
   "suppressed manually")
eq(drops[3], ("ADMIN@example.test", {"subType": "FORBIDDEN_RECIPIENT", "description": "Local part forbidden by config"}),
   "forbidden local part")
eq(drops[4], ("expired@example.test", None), "an expired entry does not drop")
eq([r["rid"][-18:] for r in env["data"]["recipients"]], ["#%08x#%08x" % (i, i) for i in range(5)],
   "dropped recipients keep their ids")
eq(job_row(jid)["recipients"], 5, "the record counts every accepted recipient")
delete_queue(q)
done()
