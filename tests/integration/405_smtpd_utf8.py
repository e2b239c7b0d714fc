"""txmail-smtpd: 8BITMIME and SMTPUTF8. UTF-8 local parts and IDN domains with
SMTPUTF8 (domains kept as A-labels), refused without it; an 8-bit message
marks the job "eightbit"; smtplib as an SMTPUTF8 client."""
import smtplib

from txtest import *
from smtpdtest import *

q = job_queue("t405_jobs")
acct = new_account(domain=uniq("s405") + ".test")
dom = acct["domain"]
sender = "app@" + dom

c = Raw()
c.login(acct["user"], acct["password"])
eq(c.cmd("MAIL FROM:<\u00dfender@%s>" % dom)[1], "501 5.1.7 Bad sender address syntax", "UTF-8 sender without SMTPUTF8")
eq(c.cmd("MAIL FROM:<%s>" % sender)[0], 250, "MAIL")
eq(c.cmd("RCPT TO:<j\u00fcrgen@example.test>")[1], "501 5.1.3 Bad recipient address syntax",
   "UTF-8 recipient without SMTPUTF8")
eq(c.cmd("RCPT TO:<user@b\u00fccher.example.test>")[1], "501 5.1.3 Bad recipient address syntax",
   "IDN domain without SMTPUTF8")
c.cmd("RSET")
body = "Gr\u00fc\u00dfe aus M\u00fcnchen \u2013 \u20ac\r\n"
msg = ("From: \u00dfender@%s\r\nTo: j\u00fcrgen@example.test\r\nSubject: Gr\u00fc\u00dfe\r\n"
       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s"
       % (dom, body)).encode()
res = transaction(c, "\u00dfender@" + dom,
                  ["j\u00fcrgen@example.test", "user@b\u00fccher.example.test", "plain@example.test"], msg,
                  "SMTPUTF8 BODY=8BITMIME")
eq([r[0] for r in res], [250, 250, 250, 250, 354, 250], "SMTPUTF8 transaction")
jid = queued_id(res[-1][1])
env, raw = wait_job(q, jid)
d = env["data"]
eq((d["smtputf8"], d["eightbit"]), (True, True), "job marked smtputf8 and eightbit")
eq(d["mailFrom"], "\u00dfender@" + dom, "UTF-8 envelope sender")
eq([(r["email"], r["addr"], r["utf8"]) for r in d["recipients"]],
   [("j\u00fcrgen@example.test", "j\u00fcrgen@example.test", True),
    ("user@b\u00fccher.example.test", "user@xn--bcher-kva.example.test", False),
    ("plain@example.test", "plain@example.test", False)], "recipients: UTF-8 local part, IDN as A-label")
check(b"with UTF8SMTPSA id" in raw, "Received: protocol UTF8SMTPSA")
check(raw.endswith(body.encode()), "8-bit body kept byte for byte")

# 8-bit text without BODY=8BITMIME is accepted and still marked
res = transaction(c, sender, ["eight@example.test"],
                  ("From: %s\r\nSubject: x\r\n\r\n%s" % (sender, body)).encode())
jid = queued_id(res[-1][1])
env, raw = wait_job(q, jid)
eq((env["data"]["eightbit"], env["data"]["smtputf8"]), (True, False), "8-bit content detected without BODY=")
c.cmd("QUIT")
c.close()

# smtplib as an SMTPUTF8 client
s = smtplib.SMTP(HOST, PORT, timeout=20)
s.starttls(context=tls_context())
s.login(acct["user"], acct["password"])
r = s.sendmail(sender, ["\u00e9l\u00e8ve@example.test"],
               ("From: %s\r\nSubject: \u00e9l\u00e8ve\r\n\r\nbonjour\r\n" % sender).encode(),
               mail_options=["SMTPUTF8"])
eq(r, {}, "smtplib SMTPUTF8 sendmail accepted")
s.quit()
delete_queue(q)
done()
