"""txmail-smtpd, inbound policy: limits. EHLO advertises SIZE (10 MB, as the
stack's inbound instance); a SIZE= above it is refused at MAIL, a message
over it (DATA, and BDAT) with 552 5.3.4 after its end, nothing published and
the session goes on; a message just under it is published whole; BDAT
chunks are taken octet for octet; recipients beyond smtpd_recipient_limit
get 452; pipelined commands are answered in order."""
from txtest import *
from inboundtest import *
from smtpdtest import queued_id

LIMIT = 10 * 1024 * 1024
TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"
q = inbound_queue("t431_inbound")
p, port = private_inbound(q, "smtpd_message_size_limit=%d" % LIMIT, "smtpd_recipient_limit=3")
a = bounce_account()
verp = "%s@%s" % (verp_local(new_rid()), a["bounce"])

c = session(port)
ehlo = c.ehlo("mx.sender.example")[1].split("\n")
check("SIZE %d" % LIMIT in ehlo, "SIZE advertised: %r" % ehlo)
check("PIPELINING" in ehlo and "CHUNKING" in ehlo, "PIPELINING and CHUNKING advertised")

# ---- SIZE= over the limit: refused at MAIL
eq(c.cmd("MAIL FROM:<> SIZE=%d" % (LIMIT + 1))[1], TOO_BIG, "SIZE= over the limit refused at MAIL")
eq(c.cmd("MAIL FROM:<> SIZE=%d" % LIMIT)[1], "250 2.1.0 Ok", "SIZE= at the limit taken")
eq(c.cmd("RSET")[1], "250 2.0.0 Ok", "RSET")

# ---- over the limit after the final dot: 552, nothing published, the session goes on
line = b"y" * 98 + b"\r\n"
head = b"From: <>\r\nSubject: big\r\n\r\n"
big = head + line * (LIMIT // 100 + 10)
answers, final = send(c, "", [verp], big)
eq(final, TOO_BIG, "DATA over the limit: 552")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session goes on")
near = head + line * ((LIMIT - 4096) // 100)
answers, final = send(c, "", [verp], near)
check(queued_id(final), "a message just under the limit is queued: %r" % final)
env, raw = envelopes(q, 1, timeout=30)[0]
eq(raw == near, True, "the message under the limit is published whole (%d octets)" % len(raw))

# ---- BDAT: octets as sent; over the limit refused at the chunk, nothing published
eq(c.cmd("MAIL FROM:<>")[1], "250 2.1.0 Ok", "MAIL")
eq(c.cmd("RCPT TO:<%s>" % verp)[1], "250 2.1.5 Ok", "RCPT")
part1, part2 = b"Subject: chunks\r\n\r\n.not stuffed\r\n", b"..two dots, as sent\r\n"
c.send(b"BDAT %d\r\n" % len(part1) + part1)
eq(c.reply()[1], "250 2.0.0 %d octets received" % len(part1), "first chunk")
c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
check(queued_id(c.reply()[1]), "BDAT LAST queues")
env, raw = envelopes(q, 1)[0]
eq(raw, part1 + part2, "BDAT chunks joined octet for octet")
eq(c.cmd("MAIL FROM:<>")[1], "250 2.1.0 Ok", "MAIL")
eq(c.cmd("RCPT TO:<%s>" % verp)[1], "250 2.1.5 Ok", "RCPT")
chunk = b"z" * (LIMIT // 2 + 10)
c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
eq(c.reply()[0], 250, "first half")
c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
eq(c.reply()[1], TOO_BIG, "BDAT over the limit: 552")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session goes on")

# ---- recipient limit
eq(c.cmd("MAIL FROM:<>")[1], "250 2.1.0 Ok", "MAIL")
r = [c.cmd("RCPT TO:<%s>" % x)[1] for x in
     (verp, "postmaster@" + a["bounce"], "abuse@" + a["bounce"], "fbl@" + a["bounce"])]
eq(r, ["250 2.1.5 Ok"] * 3 + ["452 4.5.3 Too many recipients"], "the fourth recipient: 452")
eq(c.cmd("RSET")[1], "250 2.0.0 Ok", "RSET")

# ---- pipelined: MAIL, RCPTs (one refused, one looked up on the pool), DATA in one write
fresh = bounce_account()
msg = b"Subject: pipelined\r\n\r\nbody\r\n"
c.send(b"MAIL FROM:<>\r\nRCPT TO:<nobody@%s>\r\nRCPT TO:<postmaster@%s>\r\nDATA\r\n"
       % (a["bounce"].encode(), fresh["bounce"].encode()))
got = [c.reply()[1] for _ in range(4)]
eq(got, ["250 2.1.0 Ok", USER_UNKNOWN % ("nobody@" + a["bounce"]), "250 2.1.5 Ok",
         "354 End data with <CR><LF>.<CR><LF>"], "pipelined answers in order")
c.send(msg + b".\r\n")
check(queued_id(c.reply()[1]), "queued")
env, raw = envelopes(q, 1)[0]
eq((env["account"], raw), (fresh["id"], msg), "the pipelined message")
c.cmd("QUIT")
c.close()
time.sleep(1)
eq(drain(q, timeout=0.5), [], "nothing else was published")
done()
