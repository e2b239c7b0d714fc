"""txmail-smtpd: CHUNKING (RFC 3030). BDAT chunks are taken octet for octet
(no dot handling), pipelined BDAT, BDAT out of sequence or without recipients
still reads its octets, a chunk over the size limit is refused without
keeping it, a long line refuses the message at BDAT LAST."""
from txtest import *
from smtpdtest import *

q = job_queue("t407_jobs")
acct = new_account(domain=uniq("s407") + ".test")
sender = "app@" + acct["domain"]


def bdat(c, data, last=False):
    c.send(b"BDAT %d%s\r\n" % (len(data), b" LAST" if last else b"") + data)
    return c.reply()


c = Raw()
c.login(acct["user"], acct["password"])
eq(bdat(c, b"hello"), (503, "503 5.5.1 Bad sequence of commands"), "BDAT without MAIL (octets read)")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the next command is understood")
c.cmd("MAIL FROM:<%s>" % sender)
eq(bdat(c, b"x" * 100, last=True)[1], "554 5.5.1 No valid recipients", "BDAT without recipients")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "octets read")
c.cmd("RSET")
c.cmd("MAIL FROM:<%s>" % sender)
c.cmd("RCPT TO:<chunks@example.test>")
part1 = ("From: %s\r\nSubject: chunks\r\n\r\nline one\r\n.\r\n..two dots stay\r\n" % sender).encode()
part2 = b"split li"
part3 = b"ne\r\nend\r\n"
eq(bdat(c, part1), (250, "250 2.0.0 %d octets received" % len(part1)), "first chunk")
eq(bdat(c, part2)[0], 250, "second chunk")
eq(c.cmd("DATA")[1], "503 5.5.1 Bad sequence of commands", "DATA after BDAT")
code, text = bdat(c, part3, last=True)
jid = queued_id(text)
check(jid, "BDAT LAST queues")
env, raw = wait_job(q, jid)
eq(raw[raw.index(b"From:"):], part1 + part2 + part3, "chunks kept octet for octet, dots included")
check(raw.startswith(b"Received: "), "Received: added")

# pipelined: MAIL, RCPT and one BDAT LAST in one write; a last chunk without CRLF gets one
msg = ("From: %s\r\nSubject: piped\r\n\r\nno final line end" % sender).encode()
c.send(b"MAIL FROM:<%s>\r\nRCPT TO:<pipe@example.test>\r\nBDAT %d LAST\r\n" % (sender.encode(), len(msg)) + msg)
r = [c.reply() for _ in range(3)]
eq([x[0] for x in r], [250, 250, 250], "pipelined BDAT")
env, raw = wait_job(q, queued_id(r[2][1]))
check(raw.endswith(b"no final line end\r\n"), "the message ends with CRLF")
# BDAT 0 LAST ends a message
c.cmd("MAIL FROM:<%s>" % sender)
c.cmd("RCPT TO:<zero@example.test>")
bdat(c, ("From: %s\r\n\r\nbody\r\n" % sender).encode())
check(queued_id(bdat(c, b"", last=True)[1]), "BDAT 0 LAST")
# a line over 998 octets
c.cmd("MAIL FROM:<%s>" % sender)
c.cmd("RCPT TO:<long@example.test>")
eq(bdat(c, ("From: %s\r\n\r\n" % sender).encode() + b"y" * 1200 + b"\r\n", last=True)[1],
   "554 5.6.0 Message line too long", "long line in BDAT")
c.close()

# over the size limit (a private instance with a 64 KB limit)
p, port = private_smtpd("smtpd_message_size_limit=65536", name="smtpd-bdat")
c = Raw(port=port)
c.login(acct["user"], acct["password"])
eq(c.ehlo()[1].split("\n")[2], "SIZE 65536", "SIZE shows the configured limit")
c.cmd("MAIL FROM:<%s>" % sender)
c.cmd("RCPT TO:<toobig@example.test>")
eq(bdat(c, ("From: %s\r\n\r\n" % sender).encode() + b"z" * 40000)[0], 250, "first chunk under the limit")
eq(bdat(c, b"z" * 40000)[1], "552 5.3.4 Message size exceeds fixed maximum message size",
   "the chunk that passes the limit is refused")
eq(bdat(c, b"z" * 100, last=True)[1], "503 5.5.1 Bad sequence of commands", "the transaction is over")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "every octet was read")
c.close()
p.stop()
delete_queue(q)
done()
