"""txmail-smtpd, inbound policy, as the local stack runs it: "txmail-stack env"
prints TXMAIL_BOUNCE_SMTP (127.0.0.1:PORT_BOUNCE); the instance there greets,
offers STARTTLS and SIZE 10 MB but no AUTH, refuses a foreign domain and an
unknown local part at RCPT, queues a VERP bounce from the null sender over
TLS to the "bounce" queue (its log line names the account, the recipient
count and the size), it calls itself smtpd-inbound (log tag, metrics file
and program label), and the submission
instance is unchanged beside it."""
import re

from txtest import *
from inboundtest import *
from smtpdtest import Raw, queued_id, PORT

env = dict(l.split("=", 1) for l in stack("env").splitlines() if "=" in l)
eq(env.get("TXMAIL_BOUNCE_SMTP"), "127.0.0.1:" + env["TXMAIL_PORT_BOUNCE"], "TXMAIL_BOUNCE_SMTP in txmail-stack env")
host, port = env["TXMAIL_BOUNCE_SMTP"].split(":")
port = int(port)
check("smtpd-inbound-1" in stack("status") and "smtpd-inbound-1        healthy" in stack("status"),
      "txmail-stack status checks the instance")

a = bounce_account()
rid = new_rid(0, 3)
verp = "%s@%s" % (verp_local(rid), a["bounce"])
c = Raw(port=port)
check(c.greeting[0] == 220, "greeting: %r" % (c.greeting,))
ehlo = c.ehlo("mx.remote.example")[1].split("\n")
check("SIZE 10485760" in ehlo and "STARTTLS" in ehlo, "SIZE 10 MB and STARTTLS: %r" % ehlo)
check(not any(l.startswith("AUTH") for l in ehlo), "no AUTH")
c.starttls()
c.ehlo("mx.remote.example")
foreign = "someone@example.org"
unknown = "nobody@" + a["bounce"]
msg = b"From: MAILER-DAEMON@mx.remote.example\r\nSubject: failure\r\n\r\nbounce text\r\n"
answers, final = send(c, "", [foreign, unknown, verp], msg)
eq(answers, [RELAY_DENIED % foreign, USER_UNKNOWN % unknown, "250 2.1.5 Ok"], "RCPT policy")
jid = queued_id(final)
check(jid, "queued: %r" % final)
c.cmd("QUIT")
c.close()
logf = E["TXMAIL_STACK_DIR"] + "/log/smtpd-inbound-1.log"


def logged():
    t = open(logf, errors="replace").read()
    return re.search(r"inbound %s: client=\[127\.0\.0\.1\], helo=mx\.remote\.example, from=<>, account=%d, "
                     r"rcpt=1, size=%d, tls=TLSv1\.[23], queue=bounce, status=queued" % (jid, a["id"], len(msg)), t)


wait_until(logged, 10, "the stack instance's log line for %s" % jid)


check(re.search(r"smtpd-inbound\[\d+\]: ", open(logf, errors="replace").read()), "its log tag is smtpd-inbound")


def inbound_metrics():
    pid = int(open(E["TXMAIL_STACK_DIR"] + "/log/smtpd-inbound-1.log.pid").read())
    try:
        t = open(E["TXMAIL_STACK_DIR"] + "/metrics/smtpd-inbound-%d.prom" % pid).read()
    except OSError:
        return None
    lab = 'program="smtpd-inbound",pid="%d"' % pid
    want = ['txmail_smtpd_inbound_rcpt_total{%s,kind="foreign"}' % lab,
            'txmail_smtpd_messages_total{%s,status="queued"}' % lab]
    return t if all(w in t for w in want) else None


wait_until(inbound_metrics, 15, "the inbound instance's metrics file, labelled program=smtpd-inbound")

# ---- the submission instance beside it: AUTH offered, no bounce policy
s = Raw(port=PORT)
ehlo = s.ehlo()[1].split("\n")
check("SIZE 20971520" in ehlo, "submission keeps its 20 MB: %r" % ehlo)
s.starttls()
check(any(l.startswith("AUTH") for l in s.ehlo()[1].split("\n")), "submission offers AUTH after TLS")
s.close()
done()
