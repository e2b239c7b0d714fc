"""txmail-smtpd: an open session loses what its credential lost (issue 11).
MAIL re-checks the session's credential and account (smtpd_auth_recheck, 1 s
by default): after the account is disabled, the password changed with
`txmailctl credential set`, or source-IP authentication withdrawn, the next
MAIL of an open session is answered 530 5.7.0 and the session must
authenticate again. A credential with ip_auth and an empty allow-list
authenticates no client by its address."""
from txtest import *
from smtpdtest import *

NEEDS_AUTH = "530 5.7.0 Authentication required"
p, port = private_smtpd(name="smtpd-421")


def session(user, password, source="127.0.0.1"):
    c = Raw(port=port, source=source)
    c.login(user, password)
    return c


# ---- disabled account
A = new_account(domain=uniq("s421a") + ".test")
c = session(A["user"], A["password"])
eq(c.cmd("MAIL FROM:<app@%s>" % A["domain"])[0], 250, "MAIL while the account is enabled")
eq(c.cmd("RSET")[0], 250, "RSET")
ctl("account", "set", A["name"], "--disable")
time.sleep(1.5)
eq(c.cmd("MAIL FROM:<app@%s>" % A["domain"])[1], NEEDS_AUTH, "the next MAIL after the account was disabled")
eq(c.auth_plain(A["user"], A["password"])[0], 535, "and AUTH fails while it is disabled")
c.close()
ctl("account", "set", A["name"], "--enable")
c = session(A["user"], A["password"])
eq(c.cmd("MAIL FROM:<app@%s>" % A["domain"])[0], 250, "enabled again: MAIL works")
c.close()

# ---- changed password
B = new_account(domain=uniq("s421b") + ".test")
c = session(B["user"], B["password"])
eq(c.cmd("MAIL FROM:<app@%s>" % B["domain"])[0], 250, "MAIL with the old password's session")
eq(c.cmd("RSET")[0], 250, "RSET")
new_pw = uniq("newpw")
ctl("credential", "set", B["user"], "--password-file", "-", stdin=new_pw + "\n")
time.sleep(1.5)
eq(c.cmd("MAIL FROM:<app@%s>" % B["domain"])[1], NEEDS_AUTH, "the next MAIL after the password changed")
eq(c.auth_plain(B["user"], new_pw)[0], 235, "the session authenticates again with the new password")
eq(c.cmd("MAIL FROM:<app@%s>" % B["domain"])[0], 250, "and MAIL works")
c.close()

# ---- source-IP authentication withdrawn
C = new_account(domain=uniq("s421c") + ".test")
ipuser = uniq("ip")
ctl("credential", "add", C["name"], ipuser, "--password-file", "-", "--allow-ip", "127.0.0.77", "--ip-auth",
    stdin=uniq("pw") + "\n")
c = Raw(port=port, source="127.0.0.77")
c.ehlo()
eq(c.cmd("MAIL FROM:<app@%s>" % C["domain"])[0], 250, "authenticated by source IP")
eq(c.cmd("RSET")[0], 250, "RSET")
ctl("credential", "set", ipuser, "--no-ip-auth")
time.sleep(1.5)
eq(c.cmd("MAIL FROM:<app@%s>" % C["domain"])[1], NEEDS_AUTH, "the next MAIL after --no-ip-auth")
c.close()
c = Raw(port=port, source="127.0.0.77")
c.ehlo()
eq(c.cmd("MAIL FROM:<app@%s>" % C["domain"])[1], NEEDS_AUTH, "a new session from that address too")
c.close()

# ---- ip_auth with an empty allow-list (written behind txmailctl's back) authenticates nobody
D = new_account(domain=uniq("s421d") + ".test")
sql("UPDATE credential SET allowed_ips = '', ip_auth = 1 WHERE username = %s", D["user"])
try:
    for src in ("127.0.0.78", "127.0.0.79"):
        c = Raw(port=port, source=src)
        c.ehlo()
        eq(c.cmd("MAIL FROM:<app@%s>" % D["domain"])[1], NEEDS_AUTH, "no source-IP authentication from %s" % src)
        c.close()
finally:
    sql("UPDATE credential SET disabled = 1 WHERE username = %s", D["user"])
check("no longer valid" in p.log_text(), "the ended authentications are logged")
p.stop()
done()
