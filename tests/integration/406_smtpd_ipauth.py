"""txmail-smtpd: source-IP authentication (contract §17.1). A client on the
allow-list of a credential with ip_auth is that account without AUTH; an
allow-list alone only restricts where the credential may be used (§3.2)."""
from txtest import *
from smtpdtest import *

q = job_queue("t406_jobs")
a = new_account(domain=uniq("s406a") + ".test")
b = new_account(domain=uniq("s406b") + ".test", allow_ip="127.0.0.8")
ipuser = uniq("ip")
ctl("credential", "add", a["name"], ipuser, "--password-file", "-", "--allow-ip", "127.0.0.7", "--ip-auth",
    stdin=uniq("pw") + "\n")
sender = "app@" + a["domain"]

# ---- ip_auth: no AUTH needed from 127.0.0.7
for tls in (False, True):
    c = Raw(source="127.0.0.7")
    c.ehlo()
    if tls:
        c.starttls()
        c.ehlo()
    res = transaction(c, sender, ["ipauth@example.test"], message(sender, "ipauth@example.test", "by ip"))
    eq([r[0] for r in res], [250, 250, 354, 250], "accepted from the allow-listed address (tls=%s)" % tls)
    jid = queued_id(res[-1][1])
    env, raw = wait_job(q, jid)
    eq((env["account"], env["data"]["account"]["name"]), (a["id"], a["name"]), "the job belongs to that account")
    check((b"with ESMTPS id" if tls else b"with ESMTP id") in raw, "Received: no SASL (A) for source-IP auth")
    eq(c.cmd("MAIL FROM:<app@%s>" % b["domain"])[1], "553 5.7.1 sender domain not registered",
       "still limited to the account's sender domains")
    c.close()

# ---- from any other address AUTH is required
c = Raw(source="127.0.0.1")
c.ehlo()
eq(c.cmd("MAIL FROM:<%s>" % sender)[1], "530 5.7.0 Authentication required", "not allow-listed: AUTH required")
c.close()

# ---- an allow-list without ip_auth only restricts where the credential works
c = Raw(source="127.0.0.1")
c.ehlo()
c.starttls()
c.ehlo()
eq(c.auth_plain(b["user"], b["password"])[1], "535 5.7.8 Authentication credentials invalid",
   "the right password from an address not on the list")
c.close()
c = Raw(source="127.0.0.8")
c.ehlo()
eq(c.cmd("MAIL FROM:<app@%s>" % b["domain"])[1], "530 5.7.0 Authentication required",
   "no source-IP authentication without ip_auth")
c.starttls()
c.ehlo()
eq(c.auth_plain(b["user"], b["password"])[0], 235, "the credential works from its address")
res = transaction(c, "app@" + b["domain"], ["listed@example.test"], message("app@" + b["domain"], "listed@example.test"))
check(queued_id(res[-1][1]), "and queues")
c.close()
sql("UPDATE credential SET disabled = 1 WHERE username = %s", ipuser)
delete_queue(q)
done()
