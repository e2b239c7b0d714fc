"""txmail-smtpd: the sender-domain check cannot be bypassed through the
header section (issue 11). Submitted over SMTP (STARTTLS + AUTH), each of
these is refused with its exact reply and enhanced code, gets no acceptance
record, is never published and reaches no sink:
  - group syntax that cut the From: list short
    (`From: ceo@victim.example, g: me@own.example;` and variants) -> 550 5.7.1;
  - a line with white space before the colon (`From :`, `From\\t:`), a line
    without a colon, a continuation line first, a line of white space only,
    a NUL, each followed by a second From:, a Bcc: and an
    X-RETARUS-M4A-* header that smtpd used to skip -> 550 5.6.0;
  - two From:, a Sender: of another domain -> 550 5.7.1; two of one
    X-RETARUS-M4A-* control header, two Subject: -> 550 5.6.0;
  - list syntax parsers split differently -> 554 5.6.0 Invalid value for From.
A clean message with a group-syntax To:, an RFC 2047 display name and folded
fields is accepted and arrives at the sink with its header as submitted."""
from txtest import *
from smtpdtest import *

q = job_queue("t412_jobs")
own = uniq("own412") + ".test"
acct = new_account(domain=own)
stack("publish-dns")
me = "me@" + own
victim = "ceo@victim.example"
rcpts = []

# what smtpd used to skip after the bad line: a second From:, a Bcc:, a control header
TAIL = ("From: %s\r\nBcc: hidden@example.test\r\n"
        "X-RETARUS-M4A-NOTIFICATION-URL: http://127.0.0.1:9/\r\n" % victim)


def msg(header, body="body\r\n"):
    return (header + "\r\n" + body).encode()


cases = [
    ("group cut the list short", "From: %s, g: %s;\r\nSubject: a\r\n" % (victim, me),
     "550 5.7.1 Unsupported value for From"),
    ("group first, victim after it", "From: g: %s;, %s\r\nSubject: a\r\n" % (me, victim),
     "550 5.7.1 Unsupported value for From"),
    ("victim inside the group", "From: g: %s, %s;\r\nSubject: a\r\n" % (me, victim),
     "550 5.7.1 Unsupported value for From"),
    ("folded continuation of From:", "From: %s\r\n\t, %s\r\nSubject: a\r\n" % (me, victim),
     "550 5.7.1 Unsupported value for From"),
    ("space before the colon", "From: %s\r\nSubject: a\r\nFrom : %s\r\n%s" % (me, victim, TAIL),
     "550 5.6.0 Malformed header: line without a field name and colon"),
    ("tab before the colon", "From: %s\r\nFrom\t: %s\r\n%s" % (me, victim, TAIL),
     "550 5.6.0 Malformed header: line without a field name and colon"),
    ("line without a colon", "From: %s\r\nnot a field\r\n%s" % (me, TAIL),
     "550 5.6.0 Malformed header: line without a field name and colon"),
    ("bare From line", "From\r\nFrom: %s\r\n%s" % (me, TAIL),
     "550 5.6.0 Malformed header: line without a field name and colon"),
    ("continuation line first", "\tx\r\nFrom: %s\r\n%s" % (me, TAIL),
     "550 5.6.0 Malformed header: continuation line before the first field"),
    ("line of white space", "From: %s\r\n \r\n%s" % (me, TAIL),
     "550 5.6.0 Malformed header: line of white space only"),
    ("NUL in a field", "From: %s\r\nX-A: a\0b\r\n%s" % (me, TAIL), "550 5.6.0 Malformed header: NUL octet"),
    ("two From:", "From: %s\r\nFrom: %s\r\nSubject: a\r\n" % (me, victim), "550 5.7.1 Unsupported value for From"),
    ("Sender: of another domain", "From: %s\r\nSender: %s\r\nSubject: a\r\n" % (me, victim),
     "550 5.7.1 Unsupported value for Sender"),
    ("two control headers", "From: %s\r\nX-RETARUS-M4A-NOTIFICATION-URL: https://ok.example/\r\n"
     "X-RETARUS-M4A-NOTIFICATION-URL: http://127.0.0.1:9/\r\n" % me,
     "550 5.6.0 Duplicate header field X-RETARUS-M4A-NOTIFICATION-URL"),
    ("two Subject:", "From: %s\r\nSubject: a\r\nSubject: b\r\n" % me, "550 5.6.0 Duplicate header field Subject"),
    ("two addresses without a comma", "From: %s %s\r\nSubject: a\r\n" % (me, victim),
     "554 5.6.0 Invalid value for From"),
    ("semicolon as a separator", "From: %s; %s\r\nSubject: a\r\n" % (me, victim), "554 5.6.0 Invalid value for From"),
    ("comment inside the domain", "From: me@%s.(x)victim.example\r\nSubject: a\r\n" % own,
     "554 5.6.0 Invalid value for From"),
]

c = Raw()
c.login(acct["user"], acct["password"])
for name, header, want in cases:
    rcpt = uniq("r412") + "@example.test"
    rcpts.append(rcpt)
    res = transaction(c, me, [rcpt], msg(header))
    eq(res[-1][1], want, "refused: " + name)
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session goes on")

# the legitimate message: group To:, encoded display name, folds
good_rcpt = uniq("good412") + "@example.test"
header = ("From: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <%s>\r\n"
          "Sender: \"Mailer, Inc.\" <%s> (bot)\r\n"
          "To: Team: a@example.test,\r\n\t\"B, b\" <b@example.test>;\r\n"
          "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n folded\r\n"
          "Message-ID: <%s@%s>\r\n"
          "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n" % (me, me, uniq("m"), own))
good = msg(header, "hello group\r\n")
res = transaction(c, me, [good_rcpt], good)
jid = queued_id(res[-1][1])
check(jid, "the legitimate message is accepted: %s" % res[-1][1])
c.cmd("QUIT")
c.close()

env, raw = only_job(q, acct["id"], jid, "the legitimate message")
eq(raw[raw.index(b"From:"):], good, "its header and body as submitted")
eq(env["data"]["mimeFrom"], None, "From: is the envelope sender")

if all(os.path.exists(os.path.join(BIN, p)) for p in ("txmail-render", "txmail-deliver")):
    meta, got = sink_wait(good_rcpt, timeout=60)[0]
    check(header.encode() in got, "the submitted header arrives unchanged, in one piece")
    check(got.rstrip(b"\r\n").endswith(b"hello group"), "the body arrives")
    check(dkim_verify(got), "DKIM verifies")
    eq(got.count(b"\r\nFrom:") + got.startswith(b"From:"), 1, "one From: at the sink")
    for r in rcpts:
        eq(sink_for(r), [], "nothing of the refused messages at the sink (%s)" % r)
else:
    log("render/deliver not built: the sink part is skipped")
delete_queue(q)
done()
