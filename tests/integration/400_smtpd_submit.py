"""txmail-smtpd: submission with real clients. Greeting and EHLO before and
after STARTTLS; swaks with STARTTLS + AUTH PLAIN and over implicit TLS;
smtplib with AUTH LOGIN; AUTH PLAIN without an initial response; several
recipients (ids by index among the accepted ones), RSET and two transactions
on one connection, PIPELINING (swaks --pipeline and a raw pipelined batch); the
job on the broker (envelope, data, raw message with Received: added and Bcc:
removed) and its acceptance record."""
import smtplib

from txtest import *
from smtpdtest import *

q = job_queue("t400_jobs")
acct = new_account(domain=uniq("s400") + ".test")
dom = acct["domain"]
sender = "app@" + dom

# ---- greeting, EHLO before and after STARTTLS
c = Raw()
eq(c.greeting, (220, "220 %s ESMTP txmail" % MYHOST), "greeting")
code, text = c.ehlo()
eq(code, 250, "EHLO")
ext = text.split("\n")
eq(ext[0], MYHOST, "EHLO names the host")
for e in ("PIPELINING", "SIZE 20971520", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS", "CHUNKING"):
    check(e in ext, "EHLO before TLS offers %s" % e)
check(not any(x.startswith("AUTH") for x in ext), "no AUTH before TLS")
c.starttls()
code, text = c.ehlo()
ext = text.split("\n")
check("AUTH PLAIN LOGIN" in ext, "AUTH PLAIN LOGIN after TLS")
check("STARTTLS" not in ext, "no STARTTLS once TLS is on")
eq(c.cmd("STARTTLS")[1], "503 5.5.1 Bad sequence of commands", "STARTTLS twice")
# AUTH PLAIN without an initial response
eq(c.cmd("AUTH PLAIN"), (334, "334 "), "AUTH PLAIN asks for the response")
tok = base64.b64encode(("\0%s\0%s" % (acct["user"], acct["password"])).encode()).decode()
eq(c.cmd(tok), (235, "235 2.7.0 Authentication successful"), "AUTH PLAIN in two steps")
eq(c.cmd("AUTH PLAIN " + tok)[1], "503 5.5.1 Bad sequence of commands", "a second AUTH")
eq(c.cmd("VRFY someone")[1], "252 2.5.2 Cannot VRFY user", "VRFY")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "NOOP")

# ---- RSET and two transactions on one connection, recipient ids by accepted index
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], "250 2.1.0 Ok", "MAIL")
eq(c.cmd("RCPT TO:<dropped-by-rset@example.test>")[0], 250, "RCPT")
eq(c.cmd("RSET")[1], "250 2.0.0 Ok", "RSET")
eq(c.cmd("RCPT TO:<x@example.test>")[1], "503 5.5.1 Bad sequence of commands", "RCPT after RSET")
msg1 = message(sender, "a@example.test", "first",
               "hello\r\n.leading dot\r\n", extra="Bcc: secret@example.test\r\nCc: c@example.test\r\n")
res = transaction(c, sender, ["a@example.test", "not an address", "b@example.test", "c@example.test"], msg1)
eq([r[0] for r in res], [250, 250, 501, 250, 250, 354, 250], "first transaction answers")
job1 = queued_id(res[-1][1])
check(job1 is not None, "queued as a UUIDv7 job id: %s" % res[-1][1])
msg2 = message(sender, "d@example.test", "second")
res = transaction(c, sender, ["d@example.test"], msg2)
job2 = queued_id(res[-1][1])
check(job2 and job2 != job1, "second transaction on the same connection queued as another job")
eq(c.cmd("QUIT"), (221, "221 2.0.0 Bye"), "QUIT")
check(c.closed(), "the connection is closed after QUIT")

env, raw = wait_job(q, job1)
d = env["data"]
eq(env["type"], "job", "envelope type")
eq(env["slip"], ["render", "deliver"], "slip")
eq(env["account"], acct["id"], "envelope account")
eq(d["entry"], "smtp", "entry")
eq(d["account"]["name"], acct["name"], "data.account.name")
eq(d["senderDomain"]["domain"], dom, "sender domain")
eq(d["mailFrom"], sender, "mailFrom")
eq(d["mimeFrom"], None, "mimeFrom null when From: equals the envelope sender")
eq([(r["rid"], r["email"], r["drop"]) for r in d["recipients"]],
   [(job1 + "#00000000#00000000", "a@example.test", None),
    (job1 + "#00000001#00000001", "b@example.test", None),
    (job1 + "#00000002#00000002", "c@example.test", None)], "recipient ids: index among the accepted RCPTs")
eq(d["options"]["antivirus"]["active"], False, "antivirus off by default")
eq(d["smtputf8"], False, "smtputf8")
eq(env["created"], int(time.mktime(time.strptime(d["receivedTs"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone) * 1000
   + int(d["receivedTs"][20:23]), "created is receivedTs")
lines = raw.split(b"\r\n")
check(lines[0].startswith(b"Received: from client.example.test ([127.0.0.1])"), "Received: added first: %r" % lines[0])
check(b"with ESMTPSA id " + job1.encode() in raw, "Received: names the protocol and the job id")
check(b"Bcc:" not in raw and b"secret@example.test" not in raw, "Bcc: removed")
check(b"Cc: c@example.test\r\n" in raw, "other headers kept")
check(raw.endswith(b"\r\nhello\r\n.leading dot\r\n"), "body kept, dot-stuffing undone")
eq(raw[raw.index(b"From:"):], msg1.replace(b"Bcc: secret@example.test\r\n", b""), "the rest is the message as submitted")

row = job_row(job1)
eq((row["entry"], row["http_status"], row["answer"], row["mail_from"], row["slip"], row["recipients"]),
   ("smtp", 250, "250 2.0.0 Ok: queued as " + job1, sender, "render,deliver", 3), "acceptance record")
eq(row["account_id"], acct["id"], "record account")
env2, raw2 = wait_job(q, job2)
eq(len(env2["data"]["recipients"]), 1, "second job: one recipient")
check(b"for <d@example.test>;" in raw2, "Received: for <rcpt> with a single recipient")

# ---- swaks: STARTTLS + AUTH PLAIN; implicit TLS + AUTH LOGIN; pipelining
rc, out = swaks("--port", str(PORT), "--tls", "--auth", "PLAIN", "--auth-user", acct["user"],
                "--auth-password", acct["password"], "--from", sender, "--to", "sw1@example.test",
                "--header", "Subject: swaks starttls")
m = re.search(r"<~  250 2\.0\.0 Ok: queued as (\S+)", out)
check(rc == 0 and m, "swaks STARTTLS + AUTH PLAIN queued (rc %d)" % rc)
wait_job(q, m.group(1))
rc, out = swaks("--port", str(SPORT), "--tlsc", "--auth", "LOGIN", "--auth-user", acct["user"],
                "--auth-password", acct["password"], "--from", sender, "--to", "sw2@example.test")
m = re.search(r"<~  250 2\.0\.0 Ok: queued as (\S+)", out)
check(rc == 0 and m, "swaks over implicit TLS + AUTH LOGIN queued (rc %d)" % rc)
check(re.search(r"=== TLS started with cipher TLSv1\.[23]:", out), "implicit TLS is TLS 1.2 or newer")
env, raw = wait_job(q, m.group(1))
check(b"with ESMTPSA" in raw and b"(using TLSv1." in raw, "Received: records TLS")
rc, out = swaks("--port", str(PORT), "--tls", "--pipeline", "--auth", "PLAIN", "--auth-user", acct["user"],
                "--auth-password", acct["password"], "--from", sender, "--to", "sw3@example.test,sw4@example.test")
m = re.search(r"250 2\.0\.0 Ok: queued as (\S+)", out)
check(rc == 0 and m, "swaks --pipeline queued")
env, raw = wait_job(q, m.group(1))
eq(len(env["data"]["recipients"]), 2, "pipelined job has both recipients")

# ---- TLS 1.2 or newer on both listeners (the server refuses TLS 1.1 itself)
import subprocess
for args in (["-connect", "127.0.0.1:%d" % SPORT], ["-connect", "127.0.0.1:%d" % PORT, "-starttls", "smtp"]):
    p = subprocess.run(["openssl", "s_client"] + args + ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                       input=b"", capture_output=True, timeout=20)
    check(b"alert protocol version" in p.stdout + p.stderr, "TLS 1.1 refused by the server (%s)" % args[1])
    p = subprocess.run(["openssl", "s_client"] + args + ["-tls1_2"], input=b"", capture_output=True, timeout=20)
    check(b"Protocol  : TLSv1.2" in p.stdout, "TLS 1.2 accepted (%s)" % args[1])

# ---- a raw pipelined batch: every command in one write, QUIT right after the dot
c = Raw()
c.login(acct["user"], acct["password"])
c.send("MAIL FROM:<%s> BODY=8BITMIME SIZE=300\r\nRCPT TO:<p1@example.test>\r\nRCPT TO:<p2@example.test>\r\nDATA\r\n" % sender)
eq([c.reply()[0] for _ in range(4)], [250, 250, 250, 354], "pipelined MAIL/RCPT/RCPT/DATA")
c.send(stuff(message(sender, "p1@example.test", "piped")) + b"QUIT\r\n")
code, text = c.reply()
jp = queued_id(text)
check(jp, "pipelined message queued")
eq(c.reply(), (221, "221 2.0.0 Bye"), "QUIT pipelined after the final dot")
c.close()
wait_job(q, jp)

# ---- smtplib: STARTTLS, AUTH LOGIN without initial response
s = smtplib.SMTP(HOST, PORT, timeout=20)
s.starttls(context=tls_context())
s.ehlo()
s.user, s.password = acct["user"], acct["password"]
code, resp = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
eq(code, 235, "smtplib AUTH LOGIN")
r = s.sendmail(sender, ["lib@example.test"], message(sender, "lib@example.test", "smtplib"))
eq(r, {}, "smtplib sendmail accepted")
s.quit()
eq(len(account_jobs(acct["id"])), 7, "seven acceptance records for the account")
delete_queue(q)
done()
