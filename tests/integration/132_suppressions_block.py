"""A suppression entry put through the API blocks new jobs to its address
at acceptance (contract §5.3: the job is answered PART, the address gets
validationResult SUPPRESSED "Reason: Suppressed", whatever the case and
surrounding spaces of the address in the job), only for its own account;
DELETE unblocks it at once."""
from txtest import *
from txevents import *
from txmanage import *
from txrest import JOBS, base_request

A = new_account()
B = new_account()


def job(acct, *addrs):
    req = base_request(domain=acct["domain"])
    req["recipients"] = [{"mail": {"to": [{"email": a} for a in addrs]}}]
    s, _, _, j = call(acct, "POST", JOBS, body=req)
    eq(s, 200, "job accepted")
    return j["meta"]["state"]["subType"], [t.get("validationResult") for t in j["content"]["recipients"][0]["mail"]["to"]]


eq(job(A, "blocked@example.net", "free@example.net"), ("FULL", [None, None]), "before the PUT: FULL")
eq(call(A, "PUT", SUPP + "/" + q("Blocked@Example.NET"), body={"reason": "legal hold"})[0], 201, "PUT the address")
eq(job(A, "blocked@example.net", "free@example.net"),
   ("PART", [{"classifier": "SUPPRESSED", "message": "Reason: Suppressed"}, None]),
   "after the PUT: PART, the address SUPPRESSED")
eq(job(A, " BLOCKED@example.net ", "Someone <blocked@EXAMPLE.net>"),
   ("PART", [{"classifier": "SUPPRESSED", "message": "Reason: Suppressed"}] * 2),
   "blocked whatever its case, spaces or display name")
eq(job(B, "blocked@example.net"), ("FULL", [None]), "another account's job is not blocked")
# an entry with an expiry blocks until then
eq(call(A, "PUT", SUPP + "/" + q("soon@example.net"), body={"expiresTs": iso(now_ms() + 3000)})[0], 201,
   "PUT with an expiry 3 s ahead")
eq(job(A, "soon@example.net")[0], "PART", "blocked before the expiry")
time.sleep(3.5)
eq(job(A, "soon@example.net"), ("FULL", [None]), "not blocked after the expiry")
eq(call(A, "GET", SUPP + "/" + q("soon@example.net"))[0], 404, "expired: GET 404")
eq(call(A, "DELETE", SUPP + "/" + q("soon@example.net"))[0], 404, "expired: DELETE 404")
eq(call(A, "PUT", SUPP + "/" + q("soon@example.net"))[0], 201, "PUT over an expired entry: created (201)")
# DELETE unblocks at once
eq(call(A, "DELETE", SUPP + "/" + q("blocked@example.net"))[0], 204, "DELETE the address")
eq(job(A, "blocked@example.net", "free@example.net"), ("FULL", [None, None]), "after the DELETE: FULL again")
done()
