"""Trace & Recover, the recovery (contract §16.2, txmail addition): POST
/email/v2/messages/{id}/recover re-sends the kept message as a new job:
200 with the job-creation answer (new jobId), the message arrives again at
the sink (same body, a new Message-ID, signed again), the original address
gets RESEND/POST_DELIVERY/TRACE_RECOVER/OK `resent as <jobId>` (recorded and
posted to the original job's webhook; event key
= the new job: a second recovery has an event of its own) and the new job
is listed in the original job's followUpJobs; {"email": ...} re-sends to an
edited address; an invalid one answers 400 naming email; a suppressed one
is accepted PART, dropped at intake, and the original address gets
TRACE_RECOVER/FAILED; a job without Trace & Recover, another account's id,
an unknown id and an expired copy answer 404; an Idempotency-Key makes a
repeated request answer the stored answer without a second job."""
from txtest import *
from txevents import tag
from tracetest import *
from txrest import is_uuid

need_stack()
hook = WebhookReceiver()
acct = tr_account(notify_url=hook.url)
other = tr_account(selector="s2")
stack("publish-dns")
cl, ocl = client(acct), client(other)
A = acct["id"]

a = uniq("rc") + "@example.net"
ans = send(cl, acct, [a], body="recover me")
job, r = ans["meta"]["jobId"], rids(ans)[0]
first = sink_wait(a)[0]
stored(r)
wait_until(lambda: sql("SELECT 1 FROM message WHERE rid=%s AND final_at IS NOT NULL", r), 60, "delivered")


def resend_events(rid):
    return [tuple(x) for x in sql("SELECT subtype, description, event_key FROM event WHERE rid=%s AND "
                                  "phase='RESEND' AND type='TRACE_RECOVER' ORDER BY ts, seq", rid)]


# same address
st, hdrs, data, doc = recover(cl, r)
eq(st, 200, "recover answers 200 (%s)" % data[:300])
new = doc["meta"]["jobId"]
check(is_uuid(new) and new != job, "a new job id")
eq(doc["meta"]["state"], {"type": "ACCEPTED", "subType": "FULL", "phase": "PRE_PROCESS"}, "accepted FULL")
nrid = doc["content"]["recipients"][0]["mail"]["to"][0]["id"]
eq((nrid, doc["content"]["recipients"][0]["mail"]["to"][0]["email"]), (new + "#00000000#00000000", a),
   "the answer names the new recipient id and the address")
again = sink_wait(a, count=2)
meta2, raw2 = [x for x in again if x[1] != first[1]][0]
body1, body2 = first[1].split(b"\r\n\r\n", 1)[1], raw2.split(b"\r\n\r\n", 1)[1]
eq(body2, body1, "the same body arrives again")
check(("<%s@" % nrid).encode() in raw2, "a new Message-ID for the new job")
check(raw2.count(b"DKIM-Signature:") == first[1].count(b"DKIM-Signature:"), "signed once again, not twice")
ev = wait_until(lambda: resend_events(r), 30, "RESEND of the original address")
eq(ev, [("OK", "resent as " + new, new)], "RESEND/POST_DELIVERY/TRACE_RECOVER/OK resent as <jobId>")
eq(sql("SELECT tag FROM event WHERE rid=%s AND phase='RESEND'", r)[0][0],
   tag(r, "RESEND", "POST_DELIVERY", "TRACE_RECOVER", "OK", new), "tag keyed on the new job")
eq(sql("SELECT parent_job_id FROM job WHERE job_id=%s", new)[0][0], job, "the new job's parent")


def resend_posts():
    return [(json.loads(q["body"])["meta"], n) for q in hook.requests for n in json.loads(q["body"])["notifications"]
            if n["meta"]["event"]["type"] == "TRACE_RECOVER"]


meta, n = wait_until(resend_posts, 30, "the RESEND webhook")[0]
eq((meta["jobId"], n["meta"]["mail"]["id"]), (job, r), "posted for the original job and address")
eq({k: n["meta"]["event"][k] for k in ("phase", "state", "type", "subType", "description")},
   {"phase": "RESEND", "state": "POST_DELIVERY", "type": "TRACE_RECOVER", "subType": "OK",
    "description": "resent as " + new}, "the webhook's event")
st, _, _, jd = cl.request("GET", V2 + "/jobs/" + job)
eq(st, 200, "the original job")
check(new in jd["meta"]["followUpJobs"], "followUpJobs of the original lists the new job: %r" % jd["meta"])
st, _, _, md = cl.request("GET", msg_path(r))
eq(md["lastEvent"]["type"], "DELIVERED", "the RESEND event does not change the delivery state")
eq(sql("SELECT COUNT(*) FROM trace_store WHERE rid=%s", nrid)[0][0], 0, "the re-sent job is not kept again")

# edited address
b = uniq("rc-new") + "@example.net"
st, _, _, doc = recover(cl, r, body={"email": "New Name <%s>" % b})
eq(st, 200, "recover to an edited address")
new_b = doc["meta"]["jobId"]
got = sink_wait(b)[0]
eq(got[0]["rcptTo"], [b], "delivered to the new address")
check(b"recover me" in got[1], "the kept body")
wait_until(lambda: len(resend_events(r)) == 2, 30, "a second RESEND event")
eq(resend_events(r)[1], ("OK", "resent as " + new_b, new_b), "its own event")

# Idempotency-Key: the repeated request gets the stored answer, no second job
key = uniq("idem")
st1, _, _, d1 = cl.request("POST", msg_path(r) + "/recover", body={"email": b}, headers={"Idempotency-Key": key})
st2, h2, _, d2 = cl.request("POST", msg_path(r) + "/recover", body={"email": b}, headers={"Idempotency-Key": key})
eq((st1, st2), (200, 200), "both answered 200")
eq(d2, d1, "the replay is the stored answer")
eq(h2.get("x-txmail-idempotent-replay"), "true", "marked as a replay")
eq(sql("SELECT COUNT(*) FROM job WHERE parent_job_id=%s", job)[0][0], 3, "one job for the key (3 recoveries so far)")
sink_wait(b, count=2)
wait_until(lambda: len(resend_events(r)) == 3, 30, "the keyed recovery's event")

# invalid address, bad bodies
for what, body, raw in (("bad address", {"email": "not an address"}, None), ("not a string", {"email": 7}, None),
                        ("not JSON", None, b"{nope"), ("not an object", None, b"[1]")):
    expect_error(recover(cl, r, body=body, raw=raw), 400, "INVALID_FORMAT", "Invalid format for email", what)

# suppressed address: accepted PART, dropped at intake, FAILED for the original address
c = uniq("rc-supp") + "@example.net"
sql("INSERT INTO suppression (account_id, address, type, created_at, expires_at, lifetime_s, reason) VALUES "
    "(%s, %s, 'PREVIOUSLY_BOUNCED', UTC_TIMESTAMP(3), DATE_ADD(UTC_TIMESTAMP(3), INTERVAL 1 DAY), 3888000, "
    "'[5.1.1] user unknown')", A, c)
st, _, _, doc = recover(cl, r, body={"email": c})
eq(st, 200, "a suppressed address is accepted")
eq(doc["meta"]["state"]["subType"], "PART", "PART")
eq(doc["content"]["recipients"][0]["mail"]["to"][0]["validationResult"]["classifier"], "PREVIOUSLY_BOUNCED",
   "validationResult")
new_c, crid = doc["meta"]["jobId"], doc["content"]["recipients"][0]["mail"]["to"][0]["id"]
wait_until(lambda: sql("SELECT 1 FROM event WHERE rid=%s AND phase='PRE_PROCESS' AND subtype='PREVIOUSLY_BOUNCED'",
                       crid), 30, "the PRE_PROCESS drop")
wait_until(lambda: len(resend_events(r)) == 4, 30, "the FAILED event")
sub, desc, key = resend_events(r)[3]
eq((sub, key), ("FAILED", new_c), "TRACE_RECOVER/FAILED keyed on the new job")
check(desc.startswith("new address dropped at intake: PREVIOUSLY_BOUNCED"), "the reason: %r" % desc)
time.sleep(2)
eq(sink_for(c), [], "nothing sent to the suppressed address")

# 404s: no Trace & Recover, another account, unknown id, expired
n = uniq("rc-no") + "@example.net"
r_n = rids(send(cl, acct, [n], tr=False))[0]
sink_wait(n)
expect_error(recover(cl, r_n), 404, "NOT_FOUND", "No kept copy for this recipient id", "a job without Trace & Recover")
expect_error(recover(ocl, r), 404, "NOT_FOUND", "No kept copy for this recipient id", "another account's id")
expect_error(recover(cl, "0" * 8 + r[8:]), 404, "NOT_FOUND", "No kept copy for this recipient id", "unknown id")
expect_error(recover(cl, "garbage"), 404, "NOT_FOUND", "No kept copy for this recipient id", "malformed id")
sql("UPDATE trace_store SET stored_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE rid=%s", r)
expect_error(recover(cl, r), 404, "NOT_FOUND", "No kept copy for this recipient id", "expired copy")
eq(cl.request("GET", msg_path(r))[3]["traceRecover"], None, "and no preview")
eq(len(resend_events(r)), 4, "no event for a refused recovery")
done()
