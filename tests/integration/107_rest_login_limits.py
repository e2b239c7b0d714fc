"""txmail-rest: limits on password guessing (issue 11, lib/global/access/authlimit.h).
Failed logins are counted per client address and per user, and checked before
the KDF runs: after rest_auth_failure_limit failures an address gets 429
LIMIT_EXCEEDED with Retry-After (contract §3.4 body; §6.1 for job requests),
also for the right password and without paying the KDF, while other addresses
are served, and it gets in again once Retry-After has passed; after
rest_auth_user_failure_limit failures (from any addresses, under any spelling
the database matches) a user is refused everywhere except where it logged in
a moment ago, while other users are served; an unknown or disabled user costs
the same time as a wrong password of a known one."""
import statistics

from txtest import *
from txrest import *

PROBE = "/email/v2/t107-probe"     # under the base: 401 without login, 404 with one, 429 when limited
STATE_429 = {"type": "REJECTED", "subType": "LIMIT_EXCEEDED", "description": "Request rate limit exceeded"}


def probe(p, user, password, source):
    """(status, headers, doc, seconds) of one fresh connection's GET."""
    t = time.perf_counter()
    st, hdrs, _, doc = Client(base=p.url, user=user, password=password, source=source).request("GET", PROBE)
    return st, hdrs, doc, time.perf_counter() - t


A = new_account(domain=uniq("r107a") + ".test")
B = new_account(domain=uniq("r107b") + ".test")

# ---------------------------------------------------------------- per client address
p = PrivateRest(rest_auth_failure_limit=3, rest_auth_user_failure_limit=0, rest_auth_failure_decay="20s")
kdf = []
for i in range(3):
    st, _, _, secs = probe(p, A["user"], "wrong-%d" % i, "127.0.0.21")
    eq(st, 401, "wrong password %d from 127.0.0.21" % (i + 1))
    kdf.append(secs)
st, hdrs, doc, secs = probe(p, A["user"], A["password"], "127.0.0.21")
eq(st, 429, "after 3 failures the address is limited, even with the right password")
eq(doc, {"meta": {"state": STATE_429}}, "429 body (§3.4)")
retry = int(hdrs.get("retry-after", "0"))
check(1 <= retry <= 20, "Retry-After: %r" % hdrs.get("retry-after"))
check(secs < 0.5 * statistics.median(kdf),
      "the limited login is answered without the KDF (%.3fs, a checked one %.3fs)" % (secs, statistics.median(kdf)))
st, hdrs, doc, _ = probe(p, "nobody-" + uniq(), "x" * 9, "127.0.0.21")
eq(st, 429, "any user from the limited address")
got = p.client(user=A["user"], password=A["password"], source="127.0.0.21").post(base_request(A["domain"]))
expect_reject(got, 429, "LIMIT_EXCEEDED", "Request rate limit exceeded", "a job request from the limited address (§6.1)")
check(int(got[1].get("retry-after", "0")) >= 1, "Retry-After on the job request's 429")
eq(probe(p, B["user"], B["password"], "127.0.0.22")[0], 404, "another address is served at once")
eq(probe(p, A["user"], A["password"], "127.0.0.22")[0], 404, "the same user from another address too")
time.sleep(retry + 0.5)
eq(probe(p, A["user"], A["password"], "127.0.0.21")[0], 404, "after Retry-After the address logs in again")
check("too many failures" in p.prog.log_text(), "the refusal is logged")
p.stop()

# ---------------------------------------------------------------- per user
p = PrivateRest(rest_auth_failure_limit=0, rest_auth_user_failure_limit=3, rest_auth_failure_decay="20s")
V = new_account(domain=uniq("r107v") + ".test")
W = new_account(domain=uniq("r107w") + ".test")
eq(probe(p, V["user"], V["password"], "127.0.0.35")[0], 404, "V logs in from its own address")
eq(probe(p, V["user"], "guess-1", "127.0.0.31")[0], 401, "guess 1 at V (127.0.0.31)")
# the database matches the name with a trailing space too (PAD SPACE): the same credential is counted
eq(probe(p, V["user"] + " ", "guess-2", "127.0.0.32")[0], 401, "guess 2 at 'V ' (127.0.0.32)")
eq(probe(p, V["user"], "guess-3", "127.0.0.33")[0], 401, "guess 3 at V (127.0.0.33)")
st, hdrs, doc, secs = probe(p, V["user"], V["password"], "127.0.0.36")
eq(st, 429, "V is limited from a new address, even with the right password")
eq(doc, {"meta": {"state": STATE_429}}, "429 body")
check(int(hdrs.get("retry-after", "0")) >= 1, "Retry-After")
eq(probe(p, V["user"], "guess-4", "127.0.0.34")[0], 429, "further guesses at V are not checked")
eq(probe(p, V["user"], V["password"], "127.0.0.35")[0], 404,
   "V's login from where it logged in a moment ago is still served (cached)")
eq(probe(p, W["user"], W["password"], "127.0.0.36")[0], 404, "another user is served while V is attacked")
eq(probe(p, W["user"], W["password"], "127.0.0.31")[0], 404, "also from the attacker's address (no address limit)")
p.stop()

# ---------------------------------------------------------------- unknown users cost the KDF
p = PrivateRest(rest_auth_failure_limit=0, rest_auth_user_failure_limit=0)
K = new_account(domain=uniq("r107k") + ".test")
D = new_account(domain=uniq("r107d") + ".test")
sql("UPDATE credential SET disabled = 1 WHERE username = %s", D["user"])
eq(probe(p, K["user"], K["password"], "127.0.0.41")[0], 404, "K logs in")
known, unknown, disabled = [], [], []
for i in range(7):
    st, _, _, secs = probe(p, K["user"], "wrong-%d" % i, "127.0.0.41")
    eq(st, 401, "known user, wrong password")
    known.append(secs)
    st, _, _, secs = probe(p, "nobody-" + uniq(), "wrong-%d" % i, "127.0.0.41")
    eq(st, 401, "unknown user")
    unknown.append(secs)
    st, _, _, secs = probe(p, D["user"], D["password"], "127.0.0.41")
    eq(st, 401, "disabled credential")
    disabled.append(secs)
# medians of interleaved tries: a busy host slows single tries, not one kind of them
mk, mu, md = statistics.median(known), statistics.median(unknown), statistics.median(disabled)
log("median seconds: known user %.3f, unknown user %.3f, disabled credential %.3f" % (mk, mu, md))
check(0.5 <= mu / mk <= 2.0, "an unknown user costs as long as a wrong password (ratio %.2f)" % (mu / mk))
check(0.5 <= md / mk <= 2.0, "a disabled credential too (ratio %.2f)" % (md / mk))
p.stop()
done()
