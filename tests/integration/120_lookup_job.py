"""GET /email/v2/jobs/{jobId} (contract §12.1): a job sent through
txmail-rest and delivered to the sink answers the synchronous answer's
layout with lastEvent per address (the message row's delivery state),
counts, entryInterface, the job references and followUpJobs; a job whose
message rows the recorder has not written yet answers from its answer with
lastEvent null; unknown, malformed, uppercase, expired (45 days), tombstone
and another account's job ids answer 404 without data."""
import json

from txevents import insert_job, new_job_id, now_ms, sqltime
from txlookup import *
from txtest import *

acct = new_account()
other = new_account(selector="s2")
stack("publish-dns")
cl, ocl = client(acct), client(other)
run = uniq("lj")
good, cc, bad_addr = run + "-a@example.net", run + "-cc@example.net", "foo@bar"

ans = send(cl, acct, [{"to": [good], "cc": [cc], "reference": "order-1"}, {"to": [bad_addr]}],
           referenceJob="ref-" + run, costCenter="cc-1", campaignId="camp-1")
job = ans["meta"]["jobId"]
sink_wait(good)
sink_wait(cc)
rows = settled(job, 3)

st, hdrs, data, doc = get(cl, job_path(job))
eq(st, 200, "job lookup answers 200")
eq(hdrs.get("content-type"), "application/json", "JSON answer")
check(b"\n" not in data and b": " not in data, "compact JSON")
m = doc["meta"]
eq(list(m.keys()), ["jobId", "receivedTs", "entryInterface", "referenceJob", "costCenter", "campaignId",
                    "state", "counts", "followUpJobs"], "meta keys in the §12.1 order")
eq((m["jobId"], m["receivedTs"], m["state"]), (job, ans["meta"]["receivedTs"], ans["meta"]["state"]),
   "jobId, receivedTs and state of the synchronous answer")
eq((m["entryInterface"], m["referenceJob"], m["costCenter"], m["campaignId"]),
   ("rest", "ref-" + run, "cc-1", "camp-1"), "entryInterface and the job references")
eq(m["counts"], {"total": 3, "inProgress": 0, "delivered": 2, "bounced": 0, "dropped": 1}, "counts")
eq(m["followUpJobs"], [], "no follow-up jobs")

# the layout of the synchronous answer, address by address, plus lastEvent from the database
db_rows = {r[0]: r[1:] for r in sql(
    "SELECT rid, reference, last_phase, last_state, last_type, last_subtype, last_ts FROM message "
    "WHERE job_id=%s", job)}
blocks = doc["content"]["recipients"]
eq(len(blocks), 2, "two blocks")
eq(blocks[0]["reference"], "order-1", "the block's reference")
check("reference" not in blocks[1], "no reference for a block without one")
for b, ab in zip(blocks, ans["content"]["recipients"]):
    eq(sorted(b["mail"].keys()), sorted(ab["mail"].keys()), "the same kinds (to, cc, bcc)")
    for kind in ab["mail"]:
        for a, aa in zip(b["mail"][kind], ab["mail"][kind]):
            want = dict(aa)
            want["lastEvent"] = last_event(db_rows[aa["id"]][1:])
            eq(a, want, "address %s: id, email, validationResult as answered, lastEvent of the row" % aa["id"])
eq(blocks[0]["mail"]["to"][0]["lastEvent"]["type"], "DELIVERED", "delivered to the sink")
eq(blocks[1]["mail"]["to"][0]["lastEvent"]["subType"], "INVALID_ADDRESS", "the invalid address was dropped")

# the other account sees nothing; unknown, malformed, uppercase
for what, cli, path in [("another account's job", ocl, job_path(job)),
                        ("unknown job", cl, job_path(new_job_id())),
                        ("malformed job id", cl, job_path("not-a-uuid")),
                        ("recipient id as job id", cl, job_path(rows[0][0])),
                        ("uppercase job id", cl, job_path(job.upper()))]:
    got = cli.request("GET", V2 + path)
    not_found(got, what, "Unknown job id")
    check(job.encode() not in got[2], what + ": no data of the job")

# a job accepted a moment ago, not recorded yet: from job.answer, lastEvent null
pj, recv = insert_job(acct["id"], reference_job="pending")
pend_rid = "%s#00000000#00000000" % pj
answer = {"meta": {"jobId": pj, "receivedTs": "2026-01-01T00:00:00.000Z",
                   "state": {"type": "ACCEPTED", "subType": "FULL", "phase": "PRE_PROCESS"}},
          "content": {"recipients": [{"mail": {"to": [{"id": pend_rid, "email": "p@example.net"}]}}]}}
sql("UPDATE job SET answer=%s WHERE job_id=%s", json.dumps(answer), pj)
st, _, _, doc = get(cl, job_path(pj))
eq(st, 200, "a job without message rows yet answers")
eq(doc["content"], {"recipients": [{"mail": {"to": [{"id": pend_rid, "email": "p@example.net",
                                                      "lastEvent": None}]}}]}, "lastEvent null until recorded")
eq(doc["meta"]["counts"], {"total": 1, "inProgress": 1, "delivered": 0, "bounced": 0, "dropped": 0},
   "not recorded yet: in progress")
check("costCenter" not in doc["meta"] and doc["meta"]["referenceJob"] == "pending", "only the references given")

# followUpJobs: accepted jobs whose parent is this job, oldest first
f1, _ = insert_job(acct["id"], received=now_ms() - 2000)
f2, _ = insert_job(acct["id"], received=now_ms() - 1000)
f3, _ = insert_job(acct["id"])
sql("UPDATE job SET parent_job_id=%s WHERE job_id IN (%s, %s, %s)", job, f1, f2, f3)
sql("UPDATE job SET http_status=0 WHERE job_id=%s", f3)
eq(get(cl, job_path(job))[3]["meta"]["followUpJobs"], [f1, f2], "followUpJobs: accepted children, oldest first")

# tombstone, rejection, expired: 404
tj, _ = insert_job(acct["id"])
sql("UPDATE job SET http_status=0 WHERE job_id=%s", tj)
not_found(get(cl, job_path(tj)), "tombstone", "Unknown job id")
sql("UPDATE job SET http_status=400 WHERE job_id=%s", f3)
not_found(get(cl, job_path(f3)), "not an accepted job", "Unknown job id")
old, _ = insert_job(acct["id"], received=now_ms() - 46 * 86400 * 1000)
not_found(get(cl, job_path(old)), "older than 45 days", "Unknown job id")
young, _ = insert_job(acct["id"], received=now_ms() - 44 * 86400 * 1000)
eq(get(cl, job_path(young))[0], 200, "44 days old: still answered")
done()
