"""txmail-smtpd: SMTP smuggling on the input side (RFC 5321 2.3.8, as
Postfix's smtpd_forbid_bare_newline). A DATA payload carrying a second
transaction behind "<LF>.<LF>", "<CR>.<CR>", "<CR><LF>.<LF>" or
"<LF>.<CR><LF>" is one message, and it is refused after the real end of data
with "550 5.5.2 Error: bare <LF|CR> received": the smuggled MAIL/RCPT/DATA are
never run (the next reply is the one for our NOOP), nothing is published, no
acceptance record is written and nothing reaches the sink. A BDAT message with
a bare LF or CR is refused the same way; a command line ended by a bare LF or
holding a bare CR is refused with 500 5.5.2 and not acted on. A clean message
on the same connection afterwards is accepted and delivered."""
from txtest import *
from smtpdtest import *

q = job_queue("t413_jobs")
dom = uniq("s413") + ".test"
acct = new_account(domain=dom)
stack("publish-dns")
sender = "app@" + dom
victim = uniq("victim") + "@example.test"
smuggled = uniq("smuggled") + "@example.test"


def head(subject):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\n" % (sender, victim, subject)).encode()


def second_txn(sep):
    """The smuggled transaction after the fake end sep."""
    return (sep + b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\nFrom: %s\r\nTo: %s\r\nSubject: smuggled\r\n\r\n"
            b"evil\r\n" % (sender.encode(), smuggled.encode(), sender.encode(), smuggled.encode()))


c = Raw()
c.login(acct["user"], acct["password"])
for name, sep, want in [("<LF>.<LF>", b"\n.\n", "LF"), ("<CR>.<CR>", b"\r.\r", "CR"),
                        ("<CR><LF>.<LF>", b"\r\n.\n", "LF"), ("<LF>.<CR><LF>", b"\n.\r\n", "LF"),
                        ("<CR>.<CR><LF>", b"\r.\r\n", "CR")]:
    eq(c.cmd("MAIL FROM:<%s>" % sender)[0], 250, "MAIL (%s)" % name)
    eq(c.cmd("RCPT TO:<%s>" % victim)[0], 250, "RCPT (%s)" % name)
    eq(c.cmd("DATA")[0], 354, "DATA (%s)" % name)
    c.send(head("first " + name) + b"text" + second_txn(sep) + b".\r\n")
    eq(c.reply()[1], "550 5.5.2 Error: bare <%s> received" % want, "one message, refused: %s" % name)
    eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the smuggled commands were never run (%s)" % name)
    eq(c.cmd("RCPT TO:<%s>" % victim)[1], "503 5.5.1 Bad sequence of commands",
       "no transaction is open after the refusal (%s)" % name)

# BDAT: the octets are counted, but a bare LF or CR still refuses the message
for chunk, want in [(head("bdat lf") + b"a\nb\r\n", "LF"), (head("bdat cr") + b"a\rb\r\n", "CR")]:
    c.cmd("MAIL FROM:<%s>" % sender)
    c.cmd("RCPT TO:<%s>" % victim)
    c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    eq(c.reply()[1], "550 5.5.2 Error: bare <%s> received" % want, "BDAT with a bare %s" % want)
    eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "BDAT octets all read")

# command lines: a bare LF ends nothing the server acts on
c.send("MAIL FROM:<%s>\n" % sender)
eq(c.reply()[1], "500 5.5.2 Error: bare <LF> received", "MAIL ended by a bare LF")
eq(c.cmd("RCPT TO:<%s>" % victim)[1], "503 5.5.1 Bad sequence of commands", "that MAIL was not run")
c.send("MAIL FROM:<%s>\rRCPT TO:<%s>\r\n" % (sender, smuggled))
eq(c.reply()[1], "500 5.5.2 Error: bare <CR> received", "a bare CR inside a command line")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session goes on")

# a clean message on the same connection is accepted
good = head("clean") + b"all CRLF\r\n"
res = transaction(c, sender, [victim], good)
jid = queued_id(res[-1][1])
check(jid, "a clean message is still accepted: %s" % res[-1][1])
c.cmd("QUIT")
c.close()

env, raw = only_job(q, acct["id"], jid, "the clean message")
eq(raw[raw.index(b"From:"):], good, "the clean message as submitted")
eq([x["email"] for x in env["data"]["recipients"]], [victim], "its one recipient")

if all(os.path.exists(os.path.join(BIN, p)) for p in ("txmail-render", "txmail-deliver")):
    got = sink_wait(victim, timeout=60)
    eq(len(got), 1, "one message at the sink for the recipient")
    check(b"Subject: clean\r\n" in got[0][1] and b"evil" not in got[0][1], "it is the clean one")
    eq(sink_for(smuggled), [], "nothing smuggled reached the sink")
else:
    log("render/deliver not built: the sink part is skipped")
delete_queue(q)
done()
