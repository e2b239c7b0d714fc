"""txmail-deliver against a real MTA: a private Postfix with the stack's
self-signed certificate (smtpd_tls_security_level=may) as the recipient
server, relaying to the plain sink. The message arrives through Postfix
over TLS (Postfix's log and its Received: header say so); Postfix's SIZE
limit makes a bigger message bounce [5.3.4] before DATA; a message that
needs SMTPUTF8 bounces [5.6.7] when Postfix does not offer it. This
Postfix does not offer PIPELINING, so the commands go one by one (Postfix
would log "improper command pipelining" otherwise)."""
import re
import shutil
import subprocess

from dlvtest import *
from txtest import *

pf = os.path.join(E["TXMAIL_STACK_DIR"], uniq("postfix"))
os.makedirs(pf)
os.chmod(pf, 0o755)
s = socket.socket()
s.bind(("127.0.0.1", 0))
pf_port = s.getsockname()[1]
s.close()
for d in ("conf", "queue", "data", "log"):
    os.makedirs(os.path.join(pf, d), exist_ok=True)
shutil.copy(os.path.join(E["TXMAIL_STACK_DIR"], "tls", "cert.pem"), os.path.join(pf, "conf", "cert.pem"))
shutil.copy(os.path.join(E["TXMAIL_STACK_DIR"], "tls", "key.pem"), os.path.join(pf, "conf", "key.pem"))
os.chmod(os.path.join(pf, "conf", "key.pem"), 0o600)
subprocess.run(["chown", "postfix:postfix", os.path.join(pf, "data"), os.path.join(pf, "log")], check=True)
main_cf = """compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mta-anchor.test
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
relayhost = [127.0.0.1]:{sink}
smtp_tls_security_level = none
smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/conf/cert.pem
smtpd_tls_key_file = {d}/conf/key.pem
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
message_size_limit = 50000
smtputf8_enable = no
smtpd_discard_ehlo_keywords = pipelining
biff = no
append_dot_mydomain = no
maillog_file = {d}/log/maillog
maillog_file_prefixes = {d}/log
""".format(d=pf, sink=E["TXMAIL_SINK_PLAIN_PORT"])
master_cf = """127.0.0.1:{port} inet n - n - - smtpd
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
""".format(port=pf_port)
with open(os.path.join(pf, "conf", "main.cf"), "w") as f:
    f.write(main_cf)
with open(os.path.join(pf, "conf", "master.cf"), "w") as f:
    f.write(master_cf)
p = subprocess.run(["postfix", "-c", os.path.join(pf, "conf"), "start"], capture_output=True, text=True)
check(p.returncode == 0, "private Postfix started (%s)" % (p.stderr.strip()[-300:]))


def postfix_stop():
    subprocess.run(["postfix", "-c", os.path.join(pf, "conf"), "stop"], capture_output=True)


import atexit  # noqa: E402

atexit.register(postfix_stop)
wait_until(lambda: socket.create_connection(("127.0.0.1", pf_port), timeout=1).close() or True, 20, "Postfix listening")

ev = Events()
tmap = write_transport(["postfix.test 127.0.0.1:%d" % pf_port])
w = Worker("deliver_transport_map=" + tmap, "deliver_retry_schedule=1s")


def maillog():
    try:
        with open(os.path.join(pf, "log", "maillog"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# 1. delivered to Postfix over TLS, relayed on to the sink
r1 = uniq("viapf") + "@postfix.test"
rid1, raw1 = w.send(r1)
d1 = ev.wait(rid1, "DELIVERED", "OK", timeout=30)[0]
check(re.fullmatch(r"\[2\.0\.0\] delivered \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 250 2\.0\.0 Ok: queued as \w+\)",
                   d1["description"]) is not None, "Postfix's reply in the description: " + d1["description"])
m1, data1 = sink_wait(r1, 1, 30, plain=True)[0]
check(data1.endswith(raw1), "the sink got the message through Postfix, content unchanged")
received = data1[:len(data1) - len(raw1)].decode(errors="replace")
check("by mta-anchor.test (Postfix) with ESMTPS" in received, "Postfix's Received: header says ESMTPS")
check(re.search(r"\(using TLSv1\.[23] with cipher", received) is not None, "and names the TLS protocol")
log = wait_until(lambda: maillog() if "TLS connection established from" in maillog() else None, 10, "Postfix's TLS log line")
check(re.search(r"postfix/smtpd\[\d+\]: \w+ TLS connection established from \S+\[127\.0\.0\.1\]: TLSv1\.[23]", log)
      is not None, "Postfix logged the TLS session")
check(re.search(re.escape(rid1) + r": to=<.*relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*tls=TLSv1\.[23], dsn=2\.0\.0, status=sent"
                % pf_port, w.log()) is not None, "deliver logged tls= and the relay")

# 2. SIZE: Postfix announces 50000; a bigger message bounces before DATA
r2 = uniq("big") + "@postfix.test"
rid2, raw2 = w.send(r2, raw=raw_message(r2, body=b"y" * 70 + b"\r\n" * 1 + (b"z" * 78 + b"\r\n") * 800))
b2 = ev.wait(rid2, "BOUNCED", "HARD_BOUNCE")[0]
eq(b2["description"], "[5.3.4] bounced (message size %d exceeds size limit 50000 of server 127.0.0.1[127.0.0.1])"
   % len(raw2), "SIZE refusal")
check("x" not in b2, "a message too big for the peer does not suppress the recipient")

# 3. SMTPUTF8 needed, not offered by this Postfix
r3 = uniq("utf") + "@postfix.test"
rid3, _ = w.send(r3, smtputf8=True, raw=raw_message(r3, body="Ünïcödé\r\n".encode()))
b3 = ev.wait(rid3, "BOUNCED", "HARD_BOUNCE")[0]
eq(b3["description"], "[5.6.7] bounced (SMTPUTF8 is required, but was not offered by host 127.0.0.1[127.0.0.1])",
   "SMTPUTF8 refusal")
time.sleep(1)
eq((sink_for(r2, plain=True), sink_for(r3, plain=True)), ([], []), "neither reached the sink")
check(r2 not in maillog() and r3 not in maillog(), "Postfix never accepted a recipient for them")
# 4. an archive Bcc recipient, one command at a time
acct = new_account()
arch = uniq("pfarch") + "@postfix.test"
sql("UPDATE sender_domain SET archive_bcc=%s WHERE account_id=%s", arch, acct["id"])
dom_id = sql("SELECT id FROM sender_domain WHERE account_id=%s", acct["id"])[0][0]
r4 = uniq("pfbcc") + "@postfix.test"
rid4, raw4 = w.send(r4, account=acct["id"], senderDomain={"id": dom_id, "domain": acct["domain"]})
ev.wait(rid4, "DELIVERED", "OK")
got4 = sink_wait(r4, 1, 30, plain=True)
check(arch in got4[0][0]["rcptTo"] or len(sink_wait(arch, 1, 30, plain=True)) == 1,
      "the archive copy went through Postfix too")
check("improper command pipelining" not in maillog(), "no pipelining toward a server that does not offer it")
w.stop()
postfix_stop()
done()
