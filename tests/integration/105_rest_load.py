"""txmail-rest under load: 1,000 requests from 10 concurrent clients (8 over
plain HTTP, 2 over HTTPS, persistent connections; every 10th request invalid):
every 200 answer has exactly one job in the broker, and no job exists without
a 200 answer."""
import threading

from txtest import *
from txrest import *

setup_queues()
A = new_account(domain="load.example.com")
THREADS, PER = 10, 100
ok_ids, bad_ids, other = [], [], []
lock = threading.Lock()


def client(t):
    base = E["TXMAIL_REST_URL"] if t >= 8 else E["TXMAIL_REST_HTTP_URL"]
    cl = Client(base=base, user=A["user"], password=A["password"])
    for i in range(PER):
        req = base_request("load.example.com", to="r%d-%d@example.org" % (t, i))
        if i % 7 == 3:
            req["recipients"].append({"mail": {"to": [{"email": "x%d@example.org" % i}], "cc": [{"email": "foo@bar"}]}})
        if i % 10 == 9:
            del req["mail"]
        st, _, data, doc = cl.post(req)
        with lock:
            if st == 200:
                ok_ids.append(doc["meta"]["jobId"])
            elif st == 400:
                bad_ids.append(doc["meta"]["jobId"])
            else:
                other.append((st, data[:200]))
    cl.close()


threads = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
t0 = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
secs = time.time() - t0
log("%d requests in %.2f s (%.0f/s)" % (THREADS * PER, secs, THREADS * PER / secs))
eq(other, [], "no answer other than 200 and the expected 400s")
eq(len(ok_ids), 900, "900 accepted")
eq(len(bad_ids), 100, "100 rejected")
eq(len(set(ok_ids)), 900, "job ids are unique")
jobs = jobs_in(RENDER_Q, 0.5)
eq(sorted(set(jobs) - set(ok_ids)), [], "no job in the broker without a 200 answer")
eq(sorted(set(ok_ids) - set(jobs)), [], "every 200 answer has its job in the broker")
eq(sorted(set(n for _, n in jobs.values())), [1], "each job exactly once")
eq(sql("SELECT COUNT(*) FROM job WHERE account_id=%s", A["id"])[0][0], 900, "900 acceptance records")
blocks = sorted(set(len(e["data"]["blocks"]) for e, _ in jobs.values()))
eq(blocks, [1, 2], "single- and two-block jobs both went through")
done()
