"""txmail-render: SMTP jobs (contract §17.4). The submitted message is kept
byte for byte; Date: is added only when missing, Message-ID: only when
missing (per copy, <rid@message-id domain>); a submitted Message-ID is kept
and reported as content.mime.messageId; DKIM-Signature: added last and
valid; MAIL FROM by the same rules as REST (VERP on a bounce domain)."""
from txtest import *
from rendertest import *

cap = Capture("smtp")
acct = account_with_domain(ed25519=True)
D = acct["domain"].encode()

BODY = (b"hello world\r\n\r\n.leading dot and trailing space \r\n"
        b"\xc3\xbcmlaut in an 8bit body\r\n" + b"x" * 900 + b"\r\n\r\n\r\n")
HDR_NO_IDS = (b"Received: from client (client [127.0.0.1]) by txmail.test with ESMTPSA; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
              b"From: Sender <sender@" + D + b">\r\nTo: Recipient <r0@example.org>\r\n"
              b"Subject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n")
HDR_IDS = (b"From: Sender <sender@" + D + b">\r\nTo: r0@example.org\r\nSubject: with ids\r\n"
           b"Date: Mon, 2 Feb 2026 10:00:00 +0100\r\n"
           b"Message-ID:\r\n <submitted.4711@client.example>\r\nX-Custom:  keep   spacing\r\n")


def smtp_job(hdr, body, rcpts, eightbit=True):
    job = new_job()
    raw = hdr + b"\r\n" + body
    data = smtp_data(acct, job, "sender@%s" % acct["domain"], rcpts)
    data["eightbit"] = eightbit
    submit(acct, job, data, raw=raw)
    return job, raw


# no Message-ID, no Date: both added, per copy
job, sent = smtp_job(HDR_NO_IDS, BODY, ["r0@example.org", "r1@example.org"])
msgs = sorted(cap.wait_messages(job, 2), key=lambda x: x[0]["rid"])
for n, (env, raw) in enumerate(msgs):
    r = rid(job, n, n)
    eq(env["rid"], r, "copy %d recipient id" % n)
    eq(env["data"]["rcpt"], "r%d@example.org" % n, "RCPT TO")
    eq(env["data"]["eightbit"], True, "8bit body flagged for deliver")
    check(dkim_verify(raw), "copy %d: DKIM (RSA and Ed25519) verified by dkimpy" % n)
    hdr, body = raw.split(b"\r\n\r\n", 1)
    eq(body, BODY, "body byte-identical")
    fields = re.sub(rb"^DKIM-Signature:.*?\r\n(?=[^ \t])", b"", hdr + b"\r\n", flags=re.S | re.M)
    check(fields.startswith(HDR_NO_IDS), "submitted fields byte-identical and first")
    added = fields[len(HDR_NO_IDS):]
    m = re.fullmatch(rb"Date: ([^\r\n]+)\r\nMessage-ID: <([^>]+)>\r\n", added)
    check(m is not None, "only Date: and Message-ID: added, after the submitted fields: %r" % added)
    eq(m.group(2).decode(), "%s@txmail.test" % r, "Message-ID <rid@message-id domain>")
    check(parse(raw)["Date"].datetime is not None, "a valid Date:")
    eq(env["data"]["messageId"], "<%s@txmail.test>" % r, "messageId reported")
    eq(raw.count(b"DKIM-Signature:"), 2, "two signatures: rsa-sha256 and ed25519-sha256")

# Message-ID and Date present: nothing added, the submitted Message-ID reported
job, sent = smtp_job(HDR_IDS, b"short body\r\n", ["r0@example.org", "r1@example.org", "r2@example.org"], False)
msgs = cap.wait_messages(job, 3)
for env, raw in msgs:
    check(dkim_verify(raw), "DKIM of %s" % env["rid"])
    stripped = re.sub(rb"^DKIM-Signature:.*?\r\n(?=[^ \t])", b"", raw, flags=re.S | re.M)
    eq(stripped, sent, "message byte-identical to the submitted one (but for the signatures)")
    eq(env["data"]["messageId"], "<submitted.4711@client.example>", "the submitted Message-ID is reported")
evs = cap.wait_events(job, lambda e: len([x for x in e if x.get("subType") == "PROCESSING_FINISHED"]) == 3)
eq({e["content"]["mime"]["messageId"] for e in evs if e.get("subType") == "PROCESSING_FINISHED"},
   {"<submitted.4711@client.example>"}, "content.mime.messageId = the submitted value")
eq(len({raw for _, raw in msgs}), 1, "with a submitted Message-ID every copy is the same signed message")

# a message without a body at all, and a header-only one
job, sent = smtp_job(b"From: s@" + D + b"\r\nSubject: no body\r\n", b"", ["r0@example.org"], False)
env, raw = cap.wait_messages(job, 1)[0]
check(dkim_verify(raw), "header-only message signed and verified")
check(raw.endswith(b"\r\n\r\n"), "header-only message keeps its empty body")
cap.delete()
done()
