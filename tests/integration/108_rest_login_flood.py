"""txmail-rest: a flood of wrong passwords does not stop the service (issue
11). First, 40 connections of one client log in at the same moment with a
login nobody checked yet: they share one KDF run and are all served (the KDF
bound does not refuse a legitimate burst). 60 connections send wrong passwords as fast as they are answered
(address, user and per-client connection limits off, so only the bound on concurrent KDF runs,
rest_auth_kdf_max, stands between them and the HTTP threads). Meanwhile a
client that logged in before keeps being served from the credential cache,
each request within a bound; the flood is partly answered 429 "Concurrent
request limit exceeded" (with Retry-After) instead of occupying threads."""
import statistics
import threading

from txtest import *
from txrest import *

PROBE = "/email/v2/t108-probe"
FLOOD = 60
SECONDS = 8

A = new_account(domain=uniq("r108a") + ".test")
p = PrivateRest(rest_auth_failure_limit=0, rest_auth_user_failure_limit=0, rest_max_connections_per_client=0)
# ---- a burst of one fresh login
Bu = new_account(domain=uniq("r108b") + ".test")
gate = threading.Barrier(40)
burst = []


def burster():
    c = p.client(user=Bu["user"], password=Bu["password"], timeout=60)
    c._connect()
    gate.wait()
    st = c.request("GET", PROBE)[0]
    with lock:
        burst.append(st)
    c.close()


lock = threading.Lock()
bt = [threading.Thread(target=burster, daemon=True) for _ in range(40)]
for t in bt:
    t.start()
for t in bt:
    t.join(60)
eq(sorted(set(burst)), [404], "40 simultaneous first logins of one client are all served (%d answers)" % len(burst))
eq(len(burst), 40, "every one answered")

# ---- the flood
good = p.client(user=A["user"], password=A["password"], source="127.0.0.50", timeout=30)
eq(good.request("GET", PROBE)[0], 404, "the valid client logs in (and is cached)")
# what one checked login costs on this host now: the bounds below scale with it
kdf = []
for i in range(3):
    t0 = time.perf_counter()
    eq(p.client(user=A["user"], password="before-%d" % i, source="127.0.0.51").request("GET", PROBE)[0], 401,
       "a wrong password before the flood")
    kdf.append(time.perf_counter() - t0)
kdf = statistics.median(kdf)

stop = threading.Event()
answers = {}


def attacker(i):
    c = p.client(user=A["user"], password="guess-%d" % i, timeout=60)
    while not stop.is_set():
        try:
            st, hdrs, _, doc = c.request("GET", PROBE)
        except OSError:
            st, doc = "error", None
        key = st
        if st == 429:
            key = (st, doc["meta"]["state"]["description"], hdrs.get("retry-after"))
        with lock:
            answers[key] = answers.get(key, 0) + 1
    c.close()


threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(FLOOD)]
for t in threads:
    t.start()
time.sleep(1.0)     # the flood is on
lat, codes = [], []
end = time.time() + SECONDS
while time.time() < end:
    t0 = time.perf_counter()
    codes.append(good.request("GET", PROBE)[0])
    lat.append(time.perf_counter() - t0)
    time.sleep(0.05)
stop.set()
for t in threads:
    t.join(60)
lat.sort()
log("flood answers: %r" % answers)
log("valid client: %d requests, median %.3fs, p90 %.3fs, max %.3fs; one checked login %.3fs" %
    (len(lat), statistics.median(lat), lat[int(len(lat) * 0.9)], lat[-1], kdf))
check(len(lat) >= 10, "the valid client got %d answers in %ds" % (len(lat), SECONDS))
eq(set(codes), {404}, "every request of the valid client was served (logged in)")
check(statistics.median(lat) < max(0.5, 2 * kdf),
      "median wait %.3fs: below two checked logins (%.3fs)" % (statistics.median(lat), kdf))
check(lat[-1] < max(5.0, 15 * kdf), "longest wait %.3fs: below 5 s and 15 checked logins" % lat[-1])
busy = sum(n for k, n in answers.items() if isinstance(k, tuple) and k[1] == "Concurrent request limit exceeded")
check(busy > 0, "the flood is answered 429 when every KDF slot is busy (%d)" % busy)
check(all(k[2] == "1" for k in answers if isinstance(k, tuple)), "with Retry-After: 1")
check(answers.get(401, 0) > 0, "and 401 when checked (%d)" % answers.get(401, 0))
check("error" not in answers, "no connection failed")
p.stop()
done()
