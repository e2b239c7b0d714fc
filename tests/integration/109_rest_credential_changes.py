"""txmail-rest and txmailctl: changes to a credential take effect at once
(issue 11). A password changed with `txmailctl credential set` stops the old
password within seconds (the login cache holds a digest of the stored hash it
verified); a disabled account or credential is refused at the next request.
An allow-list never authenticates everybody by being empty: txmailctl refuses
an empty list, and an empty list in the database admits no address. An
allow-list longer than 4 KB is stored and checked to its end; one longer than
the column is refused with an error, never cut short."""
from txtest import *
from txrest import *

PROBE = "/email/v2/t109-probe"


def probe(user, password, source="127.0.0.60"):
    return Client(user=user, password=password, source=source).request("GET", PROBE)[0]


# ---------------------------------------------------------------- password change
A = new_account(domain=uniq("r109a") + ".test")
eq(probe(A["user"], A["password"]), 404, "the password works (and is now cached)")
eq(probe(A["user"], A["password"]), 404, "again, from the cache")
new_pw = uniq("newpw")
_, out, _ = ctl("credential", "set", A["user"], "--password-file", "-", stdin=new_pw + "\n")
check("new password" in out, "txmailctl credential set: %r" % out.strip())
t0 = time.time()
wait_until(lambda: probe(A["user"], A["password"]) == 401, 3, "the old password refused")
log("old password refused %.2fs after the change" % (time.time() - t0))
eq(probe(A["user"], new_pw), 404, "the new password works")
eq(probe(A["user"], A["password"]), 401, "the old one stays refused")

# ---------------------------------------------------------------- disabled account and credential
B = new_account(domain=uniq("r109b") + ".test")
eq(probe(B["user"], B["password"]), 404, "B logs in")
ctl("account", "set", B["name"], "--disable")
eq(probe(B["user"], B["password"]), 401, "disabled account: refused at the next request")
_, out, _ = ctl("account", "show", B["name"])
check("disabled:    yes" in out, "account show says disabled")
ctl("account", "set", B["name"], "--enable")
eq(probe(B["user"], B["password"]), 404, "enabled again")
ctl("credential", "set", B["user"], "--disable")
eq(probe(B["user"], B["password"]), 401, "disabled credential: refused")
ctl("credential", "set", B["user"], "--enable")
eq(probe(B["user"], B["password"]), 404, "enabled again")

# ---------------------------------------------------------------- empty allow-lists
C = new_account(domain=uniq("r109c") + ".test")
for what, args in [("add --allow-ip ''", ["credential", "add", C["name"], uniq("u"), "--password-file", "-",
                                          "--allow-ip", ""]),
                   ("add --allow-ip ' , '", ["credential", "add", C["name"], uniq("u"), "--password-file", "-",
                                             "--allow-ip", " , "]),
                   ("add --ip-auth --allow-ip ''", ["credential", "add", C["name"], uniq("u"), "--password-file", "-",
                                                   "--allow-ip", "", "--ip-auth"]),
                   ("set --allow-ip ''", ["credential", "set", C["user"], "--allow-ip", ","]),
                   ("set --ip-auth without a list", ["credential", "set", C["user"], "--ip-auth"])]:
    rc, out, err = ctl(*args, check_rc=False, stdin="password-109\n")
    check(rc != 0 and ("empty" in err or "needs a non-empty" in err), "txmailctl %s refused: %r" % (what, err.strip()))
eq(sql("SELECT COUNT(*) FROM credential WHERE account_id = %s", C["id"])[0][0], 1, "nothing was added")
eq(sql("SELECT allowed_ips, ip_auth FROM credential WHERE username = %s", C["user"])[0], (None, 0),
   "nothing was changed")
# a list emptied behind txmailctl's back (or by an older version) admits nobody
sql("UPDATE credential SET allowed_ips = '' WHERE username = %s", C["user"])
eq(probe(C["user"], C["password"]), 401, "an empty allow-list admits no address")
sql("UPDATE credential SET allowed_ips = ' , ' WHERE username = %s", C["user"])
eq(probe(C["user"], C["password"]), 401, "nor does a list of separators")
ctl("credential", "set", C["user"], "--any-ip")
eq(probe(C["user"], C["password"]), 404, "--any-ip: no list, any address")

# ---------------------------------------------------------------- allow-lists beyond 4 KB
many = ["10.%d.%d.%d" % (i // 65536, (i // 256) % 256, i % 256) for i in range(3000)]
long_list = ",".join(many + ["127.0.0.61"])
check(len(long_list) > 30000, "a %d-character allow-list" % len(long_list))
D = new_account(domain=uniq("r109d") + ".test", allow_ip=long_list)
eq(sql("SELECT CHAR_LENGTH(allowed_ips) FROM credential WHERE username = %s", D["user"])[0][0], len(long_list),
   "stored whole")
eq(probe(D["user"], D["password"], "127.0.0.61"), 404, "the address at the end of the list is allowed")
eq(probe(D["user"], D["password"], "127.0.0.62"), 401, "an address not on it is not")
ctl("credential", "set", D["user"], "--allow-ip", ",".join(["127.0.0.62"] + many))
eq(probe(D["user"], D["password"], "127.0.0.62"), 404, "credential set: the new list works")
eq(probe(D["user"], D["password"], "127.0.0.61"), 401, "and replaced the old one")
too_long = ",".join(["10.%d.%d.%d" % (i // 65536, (i // 256) % 256, i % 256) for i in range(6000)])
check(len(too_long) > 65535, "a %d-character list" % len(too_long))
rc, out, err = ctl("credential", "add", D["name"], uniq("u"), "--password-file", "-", "--allow-ip", too_long,
                   check_rc=False, stdin="password-109\n")
check(rc != 0 and "at most 65535" in err, "a list longer than the column is refused: %r" % err.strip()[:120])
rc, out, err = ctl("credential", "set", D["user"], "--allow-ip", too_long, check_rc=False)
check(rc != 0 and "at most 65535" in err, "also by credential set")
eq(probe(D["user"], D["password"], "127.0.0.62"), 404, "the stored list is unchanged")
done()
