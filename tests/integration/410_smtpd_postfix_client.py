"""txmail-smtpd with a real MTA as the client: a private Postfix (as a
customer's mail server) relays to txmail-smtpd's submission port with
STARTTLS required (smtp_tls_security_level = encrypt) and SASL PLAIN/LOGIN
authentication; its message becomes a job on the broker with Postfix's own
Received: line kept and ours added on top; a wrong password makes Postfix
defer, not bounce."""
import os
import shutil
import smtplib
import subprocess

from txtest import *
from smtpdtest import *

q = job_queue("t410_jobs")
acct = new_account(domain=uniq("s410") + ".test")
sender = "app@" + acct["domain"]
D = os.path.join(E["TXMAIL_STACK_DIR"], "postfix-410-%d" % os.getpid())
LPORT = spare_port(2)


def postfix_start(password):
    os.makedirs(D + "/conf", exist_ok=True)
    os.chmod(D, 0o755)
    for sub in ("queue", "data", "log"):
        os.makedirs(os.path.join(D, sub), exist_ok=True)
    subprocess.run(["chown", "postfix:postfix", D + "/data", D + "/log"], check=True)
    with open(D + "/conf/sasl_passwd", "w") as f:
        f.write("[127.0.0.1]:%d %s:%s\n" % (PORT, acct["user"], password))
    os.chmod(D + "/conf/sasl_passwd", 0o600)
    with open(D + "/conf/main.cf", "w") as f:
        f.write("""compatibility_level = 3.6
queue_directory = {D}/queue
data_directory = {D}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = customer-mta.test
mydomain = test
myorigin = $myhostname
mydestination =
local_recipient_maps =
local_transport = error:local delivery disabled
alias_maps =
alias_database =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:{PORT}
smtp_tls_security_level = encrypt
smtp_tls_CAfile = {CA}
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = texthash:{D}/conf/sasl_passwd
smtp_sasl_security_options = noanonymous
smtp_sasl_tls_security_options = noanonymous
smtp_sasl_mechanism_filter = plain, login
smtpd_tls_security_level = none
biff = no
append_dot_mydomain = no
maillog_file = {D}/log/maillog
maillog_file_prefixes = {D}/log
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
""".format(D=D, PORT=PORT, CA=E["TXMAIL_TLS_CA"]))
    with open(D + "/conf/master.cf", "w") as f:
        f.write("""127.0.0.1:{LPORT} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""".format(LPORT=LPORT))
    subprocess.run(["postfix", "-c", D + "/conf", "check"], check=True)
    subprocess.run(["postfix", "-c", D + "/conf", "start"], check=True, capture_output=True)
    wait_until(lambda: (lambda s: s.close() or True)(socket.create_connection((HOST, LPORT), 1)), 20,
               "the private Postfix listening")


def postfix_stop():
    subprocess.run(["postfix", "-c", D + "/conf", "stop"], capture_output=True)
    pidf = D + "/queue/pid/master.pid"
    for _ in range(100):
        try:
            pid = int(open(pidf).read().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            break
        time.sleep(0.1)


def maillog():
    try:
        return open(D + "/log/maillog").read()
    except OSError:
        return ""


def inject(rcpt, subject):
    s = smtplib.SMTP(HOST, LPORT, timeout=20)
    s.sendmail(sender, [rcpt], ("From: Customer App <%s>\r\nTo: %s\r\nSubject: %s\r\n\r\nvia postfix\r\n"
                                % (sender, rcpt, subject)).encode())
    s.quit()


try:
    postfix_start(acct["password"])
    rcpt = uniq("pf") + "@example.test"
    inject(rcpt, "relayed by postfix")

    def find():
        for jid, (env, raw) in jobs_seen(q, wait=0.3).items():
            if any(r["email"] == rcpt for r in env["data"]["recipients"]):
                return jid, env, raw
        return None
    jid, env, raw = wait_until(find, 60, "the job relayed by Postfix")
    eq(env["data"]["account"]["name"], acct["name"], "job of the authenticated account")
    eq(env["data"]["mailFrom"], sender, "envelope sender from Postfix")
    lines = raw.split(b"\r\n")
    check(lines[0].startswith(b"Received: from customer-mta.test ([127.0.0.1])"), "our Received: on top: %r" % lines[0])
    check(b"with ESMTPSA id " + jid.encode() in raw, "Postfix used TLS and SASL (ESMTPSA)")
    check(b"by customer-mta.test (Postfix)" in raw, "Postfix's own Received: kept")
    log = wait_until(lambda: (lambda l: l if "status=sent" in l else None)(maillog()), 20, "Postfix's delivery log")
    check("250 2.0.0 Ok: queued as %s" % jid in log, "Postfix logged our 250 with the job id")
    eq(job_row(jid)["answer"], "250 2.0.0 Ok: queued as " + jid, "acceptance record")

    # a wrong password: Postfix defers (4xx or 5xx AUTH is a temporary failure for its client)
    postfix_stop()
    shutil.rmtree(D + "/conf", ignore_errors=True)
    postfix_start("not-the-password")
    bad = uniq("pfbad") + "@example.test"
    inject(bad, "wrong password")
    log = wait_until(lambda: (lambda l: l if ("status=deferred" in l and bad in l) else None)(maillog()), 30,
                     "Postfix deferring with the wrong password")
    check("535 5.7.8 Authentication credentials invalid" in log, "Postfix saw 535 5.7.8")
    time.sleep(1)
    check(not any(any(r["email"] == bad for r in env["data"]["recipients"]) for env, _ in jobs_seen(q).values()),
          "nothing queued with the wrong password")
finally:
    postfix_stop()
    shutil.rmtree(D, ignore_errors=True)
delete_queue(q)
done()
