"""txmail-rest: Idempotency-Key (contract §7) - replay byte for byte with
X-Txmail-Idempotent-Replay, 50 concurrent duplicates give one job, a rejected
first request leaves the key free, keys are per account, a request still in
progress answers 409 after the wait, an abandoned claim is taken over, an
expired key creates a new job."""
import threading

from txtest import *
from txrest import *

setup_queues()
# 50 concurrent requests of A below: no concurrency limit (rest_account_concurrency is 16)
A = new_account(settings={"concurrencyLimit": 0}, domain="idem-a.example.com")
B = new_account(domain="idem-b.example.com")
reqA = base_request("idem-a.example.com")
ca = Client(user=A["user"], password=A["password"])
REPLAY = "x-txmail-idempotent-replay"

# ---------------------------------------------------------------- sequential replay
key = uniq("key-")
st, h1, body1, doc1 = ca.post(reqA, headers={"Idempotency-Key": key})
eq(st, 200, "first request: 200")
check(REPLAY not in h1, "first request is no replay")
job = doc1["meta"]["jobId"]
other = base_request("idem-a.example.com", to="someone-else@example.org")
st, h2, body2, _ = ca.post(other, headers={"Idempotency-Key": key})
eq(st, 200, "second request: 200")
eq(body2, body1, "the stored answer, byte for byte (whatever the second body)")
eq(h2.get(REPLAY), "true", "X-Txmail-Idempotent-Replay: true")
eq(h2.get("location"), "/email/v2/jobs/" + job, "Location of the original job")
jobs = jobs_in(RENDER_Q, account=A["id"])
eq(list(jobs), [job], "one job in the broker")
eq(sql("SELECT idem_key FROM job WHERE account_id=%s", A["id"]), ((key,),), "one job row, with its key")

# ---------------------------------------------------------------- per account
cb = Client(user=B["user"], password=B["password"])
st, _, _, docb = cb.post(base_request("idem-b.example.com"), headers={"Idempotency-Key": key})
eq(st, 200, "same key, other account: 200")
check(docb["meta"]["jobId"] != job, "same key, other account: a job of its own")
eq(len(jobs_in(RENDER_Q, account=B["id"])), 1, "... and its own job in the broker")

# ---------------------------------------------------------------- rejected first request
key2 = uniq("key-")
bad = base_request("idem-a.example.com")
del bad["subject"]
expect_reject(ca.post(bad, headers={"Idempotency-Key": key2}), 400, "MISSING_VALUE", "Missing mandatory value for subject.content")
eq(sql("SELECT COUNT(*) FROM idempotency WHERE account_id=%s AND idem_key=%s", A["id"], key2)[0][0], 0,
   "a rejected request does not keep the key")
st, h, _, doc = ca.post(reqA, headers={"Idempotency-Key": key2})
eq((st, REPLAY in h), (200, False), "the corrected request with the same key is processed on its own")

# ---------------------------------------------------------------- 50 concurrent duplicates
drain(RENDER_Q, timeout=0.3)
key3 = uniq("key-")
N = 50
results = [None] * N
barrier = threading.Barrier(N)


def dup(i):
    cl = Client(user=A["user"], password=A["password"])
    cl._connect()
    cl.conn.connect()
    barrier.wait()
    results[i] = cl.post(reqA, headers={"Idempotency-Key": key3})
    cl.close()


threads = [threading.Thread(target=dup, args=(i,)) for i in range(N)]
t0 = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
log("50 duplicates answered in %.2f s" % (time.time() - t0))
eq(sorted(set(r[0] for r in results)), [200], "every duplicate: 200")
eq(len(set(r[2] for r in results)), 1, "every duplicate got the same answer bytes")
eq(sum(1 for r in results if REPLAY not in r[1]), 1, "exactly one request created the job, %d replays" % (N - 1))
job3 = results[0][3]["meta"]["jobId"]
jobs = jobs_in(RENDER_Q, account=A["id"])
eq(list(jobs), [job3], "one job in the broker")
eq(jobs[job3][1], 1, "published once")
eq(sql("SELECT COUNT(*) FROM job WHERE account_id=%s AND idem_key=%s", A["id"], key3)[0][0], 1, "one job row")

# ---------------------------------------------------------------- in progress: 409 after the wait
priv = PrivateRest(rest_idem_wait="1s", rest_idem_stale="60s")
pc = priv.client(user=A["user"], password=A["password"])
key4 = uniq("key-")
sql("INSERT INTO idempotency (account_id, idem_key, state, owner, created_at, expires_at) "
    "VALUES (%s, %s, 'pending', %s, NOW(3), NOW(3) + INTERVAL 1 DAY)", A["id"], key4, "00000000-0000-7000-8000-000000000001")
t0 = time.time()
got = pc.post(reqA, headers={"Idempotency-Key": key4})
waited = time.time() - t0
expect_reject(got, 409, "CONFLICT", "Request with this Idempotency-Key is in progress", "still in progress")
eq(got[1].get("retry-after"), "1", "409 with Retry-After: 1")
check(0.9 <= waited < 5, "answered after the wait (%.2f s)" % waited)
# the first request finishes (rejected): the waiting one is processed on its own
def release():
    time.sleep(0.3)
    sql("DELETE FROM idempotency WHERE account_id=%s AND idem_key=%s", A["id"], key4)
threading.Thread(target=release).start()
st, h, _, doc = pc.post(reqA, headers={"Idempotency-Key": key4})
eq((st, REPLAY in h), (200, False), "a waiter whose first request went away is processed on its own")

# ---------------------------------------------------------------- abandoned claim taken over
key5 = uniq("key-")
sql("INSERT INTO idempotency (account_id, idem_key, state, owner, created_at, expires_at) "
    "VALUES (%s, %s, 'pending', %s, NOW(3) - INTERVAL 2 MINUTE, NOW(3) + INTERVAL 1 DAY)",
    A["id"], key5, "00000000-0000-7000-8000-000000000002")
st, h, _, doc = ca.post(reqA, headers={"Idempotency-Key": key5})
eq(st, 200, "a claim pending longer than rest_idem_stale is taken over")
eq(sql("SELECT state, job_id FROM idempotency WHERE account_id=%s AND idem_key=%s", A["id"], key5)[0],
   ("done", doc["meta"]["jobId"]), "the key now names the new job")

# ---------------------------------------------------------------- expired key
key6 = uniq("key-")
sql("INSERT INTO idempotency (account_id, idem_key, state, job_id, owner, created_at, expires_at) "
    "VALUES (%s, %s, 'done', %s, %s, NOW(3) - INTERVAL 2 DAY, NOW(3) - INTERVAL 1 DAY)",
    A["id"], key6, job, "00000000-0000-7000-8000-000000000003")
st, h, _, doc = ca.post(reqA, headers={"Idempotency-Key": key6})
eq((st, REPLAY in h), (200, False), "after 24 h the key is forgotten: a new job")
check(doc["meta"]["jobId"] != job, "with a new job id")
priv.stop()
done()
