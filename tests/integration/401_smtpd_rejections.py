"""txmail-smtpd: every refusal of contract §17.3 with its exact reply, bad
sequences, DSN parameters, garbage and truncated commands, overlong lines,
the error limit; a refused transaction leaves nothing queued and the session
goes on."""
from txtest import *
from smtpdtest import *

q = job_queue("t401_jobs")
acct = new_account(settings={"forbiddenSenders": ["noreply"]}, domain=uniq("s401") + ".test")
dom = acct["domain"]
sender = "app@" + dom
SEQ = "503 5.5.1 Bad sequence of commands"

# ---- before authentication
c = Raw()
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], SEQ, "MAIL before EHLO")
eq(c.cmd("EHLO")[1], "501 5.5.4 Syntax: EHLO hostname", "EHLO without a name")
eq(c.cmd("HELO client.test"), (250, "250 " + MYHOST), "HELO: one line, no extensions")
eq(c.ehlo()[0], 250, "EHLO")
eq(c.cmd("AUTH PLAIN " + base64.b64encode(b"\0u\0p").decode())[1],
   "538 5.7.11 Encryption required for requested authentication mechanism", "AUTH before TLS")
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], "530 5.7.0 Authentication required", "MAIL without authentication")
eq(c.cmd("RCPT TO:<a@example.test>")[1], SEQ, "RCPT without MAIL")
eq(c.cmd("DATA")[1], SEQ, "DATA without MAIL")
eq(c.cmd("FOO bar")[1], "500 5.5.2 Syntax error", "unknown command")
eq(c.cmd("X" * 511)[1], "500 5.5.2 Syntax error", "command line of 513 octets")
eq(c.cmd("NOOP " + "x" * 504)[1], "250 2.0.0 Ok", "command line of exactly 512 octets")
c.send(b"\x00\x01\xff\xfe garbage\r\n")
eq(c.reply()[1], "500 5.5.2 Syntax error", "binary garbage")
c.send("MAIL " + "y" * 20000 + "\r\n")
eq(c.reply()[1], "500 5.5.2 Syntax error", "a 20000-octet line is refused once, at its end")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session goes on")
c.starttls()
c.ehlo()
t0 = time.time()
eq(c.auth_plain(acct["user"], "wrong-password")[1], "535 5.7.8 Authentication credentials invalid", "AUTH failed")
check(time.time() - t0 >= 0.9, "a failed AUTH is answered late (%.2fs)" % (time.time() - t0))
eq(c.cmd("AUTH CRAM-MD5")[1], "504 5.5.4 Unrecognized authentication type", "unknown mechanism")
eq(c.cmd("AUTH PLAIN")[0], 334, "AUTH PLAIN without initial response")
eq(c.cmd("*")[1], "501 5.0.0 Authentication aborted", "AUTH cancelled")
eq(c.cmd("AUTH LOGIN")[0], 334, "AUTH LOGIN")
eq(c.cmd("%%%not base64")[1], "501 5.5.2 Cannot decode response", "AUTH response not base64")
eq(c.cmd("AUTH PLAIN")[0], 334, "AUTH PLAIN again")
eq(c.cmd("A" * 13000)[1], "500 5.5.6 Authentication Exchange line is too long", "AUTH exchange line too long")
eq(c.cmd("AUTH PLAIN " + "B" * 13000)[1], "500 5.5.6 Authentication Exchange line is too long",
   "AUTH command line too long")
code, text = c.auth_plain(acct["user"], acct["password"])
eq(code, 235, "AUTH with the right password after the failures")
c.close()

# ---- MAIL (each part on its own connection: every session may make 20 errors)
c = Raw()
c.login(acct["user"], acct["password"])
eq(c.cmd("MAIL FROM:<not-an-address>")[1], "501 5.1.7 Bad sender address syntax", "sender syntax")
eq(c.cmd("MAIL FROM:<>")[1], "501 5.1.7 Bad sender address syntax", "null sender")
eq(c.cmd("MAIL FROM:<%s>" % ("x" * 250 + "@" + dom))[1], "501 5.1.7 Bad sender address syntax", "sender over 254")
eq(c.cmd("MAIL FROM:<app@unregistered-%s>" % dom)[1], "553 5.7.1 sender domain not registered",
   "sender domain not registered for the account")
eq(c.cmd("MAIL FROM:<sender@example.com>")[1], "553 5.7.1 sender domain not registered",
   "another account's domain")
eq(c.cmd("MAIL FROM:<NoReply@%s>" % dom)[1], "553 5.7.1 sender address not allowed", "forbidden sender local part")
eq(c.cmd("MAIL FROM:<%s> SIZE=20971521" % sender)[1],
   "552 5.3.4 Message size exceeds fixed maximum message size", "SIZE above the limit")
eq(c.cmd("MAIL FROM:<%s> SIZE=abc" % sender)[1], "501 5.5.4 Bad SIZE parameter", "SIZE not a number")
eq(c.cmd("MAIL FROM:<%s> RET=HDRS" % sender)[1], "555 5.5.4 Unsupported option: RET", "DSN RET")
eq(c.cmd("MAIL FROM:<%s> ENVID=x" % sender)[1], "555 5.5.4 Unsupported option: ENVID", "DSN ENVID")
eq(c.cmd("MAIL FROM:<%s> BODY=BINARYMIME" % sender)[0], 555, "BODY=BINARYMIME")
eq(c.cmd("MAIL FROM %s" % sender)[1], "501 5.5.4 Syntax: MAIL FROM:<address>", "MAIL without colon")
eq(c.cmd("MAIL FROM:<%s" % sender)[1], "501 5.5.4 Syntax: MAIL FROM:<address>", "unclosed path")
eq(c.cmd("MAIL FROM:<%s> SIZE=20971520 AUTH=<>" % sender)[1], "250 2.1.0 Ok", "SIZE at the limit, AUTH= ignored")
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], SEQ, "nested MAIL")

# ---- RCPT
c.close()
c = Raw()
c.login(acct["user"], acct["password"])
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], "250 2.1.0 Ok", "MAIL")
eq(c.cmd("DATA")[1], "554 5.5.1 No valid recipients", "DATA without accepted recipients")
eq(c.cmd("RCPT TO:<no-at-sign>")[1], "501 5.1.3 Bad recipient address syntax", "recipient syntax")
eq(c.cmd("RCPT TO:<>")[1], "501 5.1.3 Bad recipient address syntax", "empty recipient")
eq(c.cmd("RCPT TO:<a@[127.0.0.1]>")[1], "501 5.1.3 Bad recipient address syntax", "address literal")
eq(c.cmd("RCPT TO:<\u00fc@example.test>")[1], "501 5.1.3 Bad recipient address syntax", "UTF-8 without SMTPUTF8")
eq(c.cmd("RCPT TO:<a@example.test> NOTIFY=NEVER")[1], "555 5.5.4 Unsupported option: NOTIFY", "DSN NOTIFY")
eq(c.cmd("RCPT TO:<a@example.test> ORCPT=rfc822;a@example.test")[1], "555 5.5.4 Unsupported option: ORCPT",
   "DSN ORCPT")
eq(c.cmd("RCPT TO a@example.test")[1], "501 5.5.4 Syntax: RCPT TO:<address>", "RCPT without colon")
# 1,000 accepted, then 452 4.5.3 (pipelined in batches)
answers = []
for batch in range(0, 1002, 200):
    n = min(200, 1002 - batch)
    c.send("".join("RCPT TO:<r%d@example.test>\r\n" % i for i in range(batch, batch + n)))
    answers += [c.reply()[1] for _ in range(n)]
eq(answers.count("250 2.1.5 Ok"), 1000, "1,000 recipients accepted")
eq(answers[1000:], ["452 4.5.3 Too many recipients"] * 2, "recipient 1,001 and later")
eq(c.cmd("RSET")[1], "250 2.0.0 Ok", "RSET")
c.close()

# ---- message line over 998 octets: refused after the final dot, nothing queued
c = Raw()
c.login(acct["user"], acct["password"])
res = transaction(c, sender, ["long@example.test"],
                  message(sender, "long@example.test", "long", "x" * 999 + "\r\nshort\r\n"))
eq(res[-1][1], "554 5.6.0 Message line too long", "line of 999 octets")
res = transaction(c, sender, ["ok@example.test"], message(sender, "ok@example.test", "998", "x" * 998 + "\r\n"))
ok_job = queued_id(res[-1][1])
check(ok_job, "a line of exactly 998 octets is fine")
# From: checks
res = transaction(c, sender, ["f@example.test"], message("boss@elsewhere.example", "f@example.test", "from"))
eq(res[-1][1], "550 5.7.1 Unsupported value for From", "From: domain differs from the envelope sender's")
res = transaction(c, sender, ["f@example.test"], b"To: f@example.test\r\nSubject: no from\r\n\r\nx\r\n")
eq(res[-1][1], "554 5.6.0 Missing mandatory value for From", "no From:")
res = transaction(c, sender, ["f@example.test"],
                  ("From: %s\r\nFrom: other@%s\r\nSubject: two\r\n\r\nx\r\n" % (sender, dom)).encode())
eq(res[-1][1], "550 5.7.1 Unsupported value for From", "two From: fields")
res = transaction(c, sender, ["f@example.test"], b"From: nonsense\r\nSubject: bad\r\n\r\nx\r\n")
eq(res[-1][1], "554 5.6.0 Invalid value for From", "From: not an address")
res = transaction(c, sender, ["f@example.test"],
                  ("From: Team <news@%s>\r\nSubject: mime from\r\n\r\nx\r\n" % dom.upper()).encode())
mf_job = queued_id(res[-1][1])
check(mf_job, "From: with another address of the same domain (any case) is fine")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session goes on after refused messages")
c.cmd("QUIT")
c.close()
env, _ = wait_job(q, mf_job)
eq(env["data"]["mimeFrom"], "news@" + dom, "mimeFrom when From: differs")
eq(sorted(r[0] for r in account_jobs(acct["id"])), sorted([ok_job, mf_job]), "only the accepted messages have records")
seen = jobs_seen(q)
eq(sorted(j for j in seen if seen[j][0]["account"] == acct["id"]), sorted([ok_job, mf_job]),
   "only the accepted messages were published")

# ---- commands pipelined after STARTTLS were sent in the clear: never acted on
c = Raw()
c.ehlo()
c.send("STARTTLS\r\nMAIL FROM:<injected@example.com>\r\n")
eq(c.reply()[1], "220 2.0.0 Ready to start TLS", "STARTTLS with a command behind it")
c.sock = tls_context().wrap_socket(c.sock, server_hostname="localhost")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the first answer under TLS is for the first command under TLS")
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], SEQ, "and the state was reset (EHLO needed again)")
c.close()

# ---- HTTP on the SMTP port; truncated command then close; the error limit
c = Raw()
c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
eq(c.reply()[1], "521 5.5.1 %s Error: protocol error" % MYHOST, "HTTP request")
check(c.closed(), "closed after an HTTP request")
c = Raw()
c.send("EHLO trunc\r\nMAIL FROM:<a@exa")
c.close()
c = Raw()
for i in range(19):
    c.cmd("BOGUS%d" % i)
eq(c.cmd("BOGUS")[1], "500 5.5.2 Syntax error", "the 20th error is still answered")
eq(c.reply(), (421, "421 4.7.0 %s Error: too many errors" % MYHOST), "then 421 after too many errors")
check(c.closed(), "and the connection is closed")
c = Raw()
eq(c.ehlo()[0], 250, "the server still serves after all this")
c.close()

# ---- MAIL only over TLS where TLS is required (a private instance that exempts nobody)
p, port = private_smtpd("smtpd_tls_exempt_clients=", "smtpd_tls_cert_file=" + E["TXMAIL_TLS_CA"],
                        "smtpd_tls_key_file=" + E["TXMAIL_STACK_DIR"] + "/tls/key.pem")
c = Raw(port=port)
c.ehlo()
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], "530 5.7.0 Must issue a STARTTLS command first", "MAIL without TLS")
c.starttls()
c.ehlo()
eq(c.auth_plain(acct["user"], acct["password"])[0], 235, "AUTH after STARTTLS on the private instance")
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], "250 2.1.0 Ok", "MAIL over TLS")
c.close()
p.stop()

# ---- plaintext AUTH only where the operator allows it: a loopback-only listener
p, port = private_smtpd("smtpd_plaintext_auth_loopback=yes", name="smtpd-plainauth")
c = Raw(port=port)
check("AUTH PLAIN LOGIN" in c.ehlo()[1].split("\n"), "AUTH offered before TLS on a loopback listener when allowed")
eq(c.auth_plain(acct["user"], acct["password"])[0], 235, "AUTH without TLS there")
res = transaction(c, sender, ["plain@example.test"], message(sender, "plain@example.test", "plain"))
check(queued_id(res[-1][1]), "and mail is taken (loopback is exempt from TLS)")
c.close()
p.stop()
delete_queue(q)
done()
