"""txmail-rest plain HTTP listener under a slowloris attack (issue 11): 2,000
connections from 127.0.0.1 that send their request header one byte every 2 s
(the default rest_max_connections is 2,000) must not stop intake: a normal
client from another address (127.0.0.2) gets its job accepted within a few
seconds, the connections over the per-client cap (rest_max_connections_per_client,
default 100) are refused at once, and the ones accepted are closed unanswered
at the header deadline (rest_header_timeout, default 10 s) although bytes
keep arriving."""
from txtest import *
from txrest import *
from slowloris import Slow

setup_queues()
A = new_account(domain="slowloris.example.com")
priv = PrivateRest()
HEADER = b"POST /email/v2/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: " + b"a" * 4000

t0 = time.time()
slow = Slow("127.0.0.1", priv.port, 2000, HEADER, source="127.0.0.1", interval=2.0)
log("opened %d slow connections in %.1f s (%d failed to connect)" % (len(slow.conns), time.time() - t0, slow.failed_connect))
time.sleep(1.5)
log("%d still open after 1.5 s" % slow.open_count())

# a normal client from another loopback address is served at once
t1 = time.time()
try:
    st, _, _, doc = priv.client(user=A["user"], password=A["password"], source="127.0.0.2", timeout=10).post(
        base_request("slowloris.example.com"))
except OSError as e:
    st, doc = None, str(e)
el = time.time() - t1
eq(st, 200, "a job from 127.0.0.2 is accepted during the attack (%s)" % (doc if st != 200 else "ok"))
check(el < 5, "answered within 5 s (%.2f s)" % el)
check(slow.open_count() <= 100 + 16, "at most the per-client cap stays open (%d open)" % slow.open_count())

# the accepted slow connections are closed at the header deadline
left = slow.wait_closed(16)
eq(left, 0, "every slow connection is closed within 16 s of opening (%d still open)" % left)
lives = sorted(slow.lifetimes())
log("lifetimes: min %.1f s, max %.1f s" % (lives[0], lives[-1]))
check(lives[-1] < 14, "none lived longer than the 10 s deadline plus the sweep (%.1f s)" % lives[-1])
longest = [x for x in lives if x > 5]
check(len(longest) > 0, "the accepted ones lived until the deadline (%d over 5 s)" % len(longest))
slow.stop()
check("header timeout" in priv.prog.log_text() or "did not arrive within" in priv.prog.log_text(),
      "the header timeouts are logged")
# still serving afterwards, also from the attacking address
st, _, _, _ = priv.client(user=A["user"], password=A["password"], source="127.0.0.1", timeout=10).post(
    base_request("slowloris.example.com"))
eq(st, 200, "127.0.0.1 is served again once its slow connections are gone")
priv.stop()
done()
