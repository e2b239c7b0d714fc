"""Trace & Recover in txmail-render, failure paths (contract §16.2, nothing
lost, nothing doubled): the job goes straight to the stack's render (no scan
needed). While trace_store cannot be written (the table renamed away) the
round is retried and nothing leaves render - no message, no
PROCESSING_FINISHED, no store event: never a message without its copy; once
the table is back, every address is rendered once and kept once. A round
delivered twice (a redelivery after a kill -9 between publish and ack)
keeps one row per address, holding the copy render published last, and
re-creates the store events with the same tags."""
from txtest import *
from rendertest import *

cap = Capture("trace393")
acct = account_with_domain()


def tr_job(n):
    job = new_job()
    req = {"subject": {"content": "kept"}, "body": {"contentType": "text/plain", "content": "kept body"},
           "mail": {"from": {"email": "Shop <shop@%s>" % acct["domain"]}},
           "recipients": [{"mail": {"to": [{"email": "k%d.%s@example.org" % (i, job[:8])} for i in range(n)]}}]}
    data = rest_data(acct, req, job)
    data["options"]["traceRecover"] = {"active": True}
    return job, data


def rows(job):
    return sql("SELECT rid, raw FROM trace_store WHERE rid LIKE %s ORDER BY rid", job + "%")


def finished(job):
    return [e for e in cap.job_events(job) if e.get("subType") == "PROCESSING_FINISHED"]


def stores(job):
    return [e for e in cap.job_events(job) if e.get("type") == "TRACE_RECOVER_STORE"]


# the store cannot be written: the round is retried, nothing is published
sql("RENAME TABLE trace_store TO trace_store_away")
try:
    job, data = tr_job(2)
    submit(acct, job, data)
    wait_until(lambda: [e for e in cap.job_events(job) if e.get("subType") == "PROCESSING_STARTED"], 20,
               "render started the job (the first stage's events are kept across the retry)")
    time.sleep(4)  # the stack's render retries after 1 s and 2 s
    eq(cap.messages(job), [], "no message while the copy cannot be kept")
    eq(finished(job), [], "no PROCESSING_FINISHED either")
    eq(stores(job), [], "no store event")
finally:
    sql("RENAME TABLE trace_store_away TO trace_store")
msgs = cap.wait_messages(job, 2)
time.sleep(1.5)
eq(len(cap.messages(job)), 2, "once the store works: each address once")
eq(len(rows(job)), 2, "and each kept once")
eq(sorted(bytes(r[1]) for r in rows(job)), sorted(m[1] for m in msgs), "the kept copies are the messages sent")
eq(len(finished(job)), 2, "PROCESSING_FINISHED once per address")
eq(len(stores(job)), 2, "one store event per address")

# a redelivered round: one row per address, the copy published last, same tags
job, data = tr_job(3)
submit(acct, job, data)
first = cap.wait_messages(job, 3)
t1 = sorted(e["tag"] for e in stores(job))
time.sleep(1.1)  # the DKIM t= differs, so the second copy differs from the first
submit(acct, job, data, row=False)
cap.wait_messages(job, 6)
time.sleep(1)
kept = rows(job)
eq(len(kept), 3, "one row per address after the redelivery")
second = {e["rid"]: r for e, r in cap.messages(job)[3:]}
eq({r[0]: bytes(r[1]) for r in kept}, second, "each row holds the copy render published last")
t2 = sorted(e["tag"] for e in stores(job))
eq(t2, sorted(t1 + t1), "the re-created store events carry the same tags")
done()
