"""txmail-rest: the broker stopped - 503 INTERNAL_ERROR with Retry-After, no
acceptance record, and no job of those requests ever appears; the broker back
- accepted again (the producer reconnects by itself). The database stopped -
503 as well, and back - accepted."""
from txtest import *
from txrest import *

setup_queues()
A = new_account(domain="broker.example.com")
req = base_request("broker.example.com")
c = Client(user=A["user"], password=A["password"])
st, _, _, doc = c.post(req)
eq(st, 200, "before: accepted")
good = [doc["meta"]["jobId"]]
failed = []

stack("stop-broker")
key = uniq("key-")
for i in range(3):
    got = c.post(req, headers={"Idempotency-Key": key} if i == 0 else None)
    doc = expect_reject(got, 503, "INTERNAL_ERROR", "Internal error", "broker stopped, request %d" % i)
    check(int(got[1].get("retry-after", "0")) >= 1, "503 carries Retry-After")
    failed.append(doc["meta"]["jobId"])
st, _, _, doc = Client().request("GET", "/health", auth=False)
eq((st, doc["broker"], doc["database"]), (503, "unreachable", "ok"), "/health says the broker is unreachable")
eq(sql("SELECT COUNT(*) FROM job WHERE account_id=%s", A["id"])[0][0], 1, "no acceptance record for the 503s")
stack("start-broker")


def accepted_again():
    st, h, _, d = c.post(req)
    if st == 200:
        good.append(d["meta"]["jobId"])
        return True
    eq(st, 503, "while the producer reconnects: 503")
    failed.append(d["meta"]["jobId"])
    return False


wait_until(accepted_again, 30, "accepted again after the broker restart", interval=0.5)
st, h, _, doc = c.post(req, headers={"Idempotency-Key": key})
eq((st, "x-txmail-idempotent-replay" in h), (200, False), "the key of a 503 was not kept: processed anew")
good.append(doc["meta"]["jobId"])
time.sleep(1)
jobs = jobs_in(RENDER_Q, 0.5, A["id"])
eq(sorted(jobs), sorted(good), "the broker holds exactly the accepted jobs")
eq([j for j in failed if j in jobs], [], "no job of a 503 appeared")
eq(sorted(r[0] for r in sql("SELECT job_id FROM job WHERE account_id=%s", A["id"])), sorted(good),
   "acceptance records exactly for the accepted jobs")

stack("stop-db")
try:
    got = c.post(req)
    doc = expect_reject(got, 503, "INTERNAL_ERROR", "Internal error", "database stopped")
    failed.append(doc["meta"]["jobId"])
finally:
    stack("start-db")
wait_until(accepted_again, 30, "accepted again after the database restart", interval=0.5)
jobs = jobs_in(RENDER_Q, 0.5, A["id"])
eq([j for j in failed if j in jobs], [], "no job of a 503 in the broker")
done()
