"""txmail-smtpd: limits on password guessing shared with txmail-rest (issue
11, lib/global/access/authlimit.h). After smtpd_auth_user_failure_limit failures of
one user, from any addresses, that user's AUTH is answered 454 4.7.0 without
being checked, everywhere except where it authenticated a moment ago, while
other users are served; after smtpd_auth_failure_limit failures of an address
every AUTH from it is answered 454 4.7.0 while other addresses are served."""
from txtest import *
from smtpdtest import *

THROTTLED = "454 4.7.0 Too many failed authentications, try again later"
FAILED = "535 5.7.8 Authentication credentials invalid"


def auth(port, user, password, source):
    c = Raw(port=port, source=source)
    c.ehlo()
    c.starttls()
    c.ehlo()
    got = c.auth_plain(user, password)
    c.close()
    return got[1]


V = new_account(domain=uniq("s420v") + ".test")
W = new_account(domain=uniq("s420w") + ".test")

# ---- per user
p, port = private_smtpd("smtpd_auth_failure_delay=0", "smtpd_auth_failure_limit=0",
                        "smtpd_auth_user_failure_limit=3", "smtpd_auth_failure_decay=30s",
                        name="smtpd-420-user")
check(auth(port, V["user"], V["password"], "127.0.0.75").startswith("235 "), "V authenticates from 127.0.0.75")
for i, src in enumerate(("127.0.0.71", "127.0.0.72", "127.0.0.73")):
    eq(auth(port, V["user"], "guess-%d" % i, src), FAILED, "guess %d at V from %s" % (i + 1, src))
eq(auth(port, V["user"], V["password"], "127.0.0.76"), THROTTLED, "V from a new address: not checked")
eq(auth(port, V["user"], "guess-4", "127.0.0.74"), THROTTLED, "further guesses at V: not checked")
check(auth(port, V["user"], V["password"], "127.0.0.75").startswith("235 "),
      "V from where it authenticated a moment ago is served")
check(auth(port, W["user"], W["password"], "127.0.0.76").startswith("235 "), "another user is served")
check(auth(port, W["user"], W["password"], "127.0.0.71").startswith("235 "),
      "also from an attacker's address (no address limit here)")
plog = p.log_text()
check("not checked" in plog and "guess-" not in plog, "refusals logged, no password in the log")
p.stop()

# ---- per address
p, port = private_smtpd("smtpd_auth_failure_delay=0", "smtpd_auth_failure_limit=2",
                        "smtpd_auth_user_failure_limit=0", "smtpd_auth_failure_decay=30s",
                        name="smtpd-420-addr")
eq(auth(port, V["user"], "guess-a", "127.0.0.81"), FAILED, "failure 1 from 127.0.0.81")
eq(auth(port, "nobody-" + uniq(), "guess-b", "127.0.0.81"), FAILED, "failure 2 from 127.0.0.81 (unknown user)")
eq(auth(port, W["user"], W["password"], "127.0.0.81"), THROTTLED, "127.0.0.81 is limited: any user, right password")
check(auth(port, W["user"], W["password"], "127.0.0.82").startswith("235 "), "another address is served")
p.stop()
done()
