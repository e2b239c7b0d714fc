"""txmail-render as a job's first stage (DESIGN.md §2, docs/ENVELOPES.md):
a job without its acceptance record is not processed and, after the grace
period, discarded without any event; a record that appears late gets the
job processed; the intake record, the PRE_PROCESS drops (ts = receivedTs),
PROCESSING_STARTED and PROCESSING_FINISHED come in this order with the
contract's tags, for REST and SMTP jobs; a job already started by an
earlier stage is not announced twice. A dedicated worker with a 3 s grace
consumes its own queue."""
from txtest import *
from rendertest import *

Q = "t_render_fs"
declare_queue(Q, "txmail.work", Q)
cap = Capture("fs")
w = Program("txmail-render", "-o", "render_queue=" + Q, "-o", "render_grace=3s", log_name="render-fs")
time.sleep(1.0)
acct = account_with_domain(publish=False)


def rest_job(drops=None, n=2):
    job = new_job()
    r = {"subject": {"content": "fs"}, "mail": {"from": {"email": "Shop <shop@%s>" % acct["domain"]}},
         "recipients": [{"mail": {"to": [{"email": "a%d@example.org" % i} for i in range(n)]},
                         "reference": "ref-1"}]}
    return job, rest_data(acct, r, job, drops=drops)


# (a) no acceptance record: never processed, discarded after the grace, no events
job_a, data = rest_job()
submit(acct, job_a, data, stage=Q, row=False)
time.sleep(2.0)
eq(cap.messages(job_a), [], "no record: nothing forwarded")
eq(cap.job_events(job_a), [], "no record: no events")
wait_until(lambda: "discarded: no acceptance record" in w.log_text() and job_a in w.log_text(), 15,
           "the discard of job A in the worker log")
time.sleep(1.5)
eq(cap.messages(job_a), [], "discarded: nothing forwarded")
eq(cap.job_events(job_a), [], "discarded: no events at all")
lines = [l for l in w.log_text().splitlines() if job_a in l and "status=" in l]
check(all("status=deferred" in l and "delay=1s" in l for l in lines[:-1]), "waited through the 1 s delay tier")
check("status=rejected" in lines[-1], "then rejected (discarded)")
check(all(" attempt=0 " in l for l in lines), "waiting for the record does not count as an attempt")

# (b) the record appears late: processed; events in order
created = now_ms()
job_b, data = rest_job(drops={(0, "to", 1): ("SUPPRESSED", 'type="MANUAL", ts="2025-01-01T00:00:00.000Z", reason="x"',
                                             {"type": "MANUAL", "address": "a1@example.org"})},
                       n=3)
data["receivedTs"] = iso(created)
submit(acct, job_b, data, stage=Q, row=False, created=created)
time.sleep(1.5)
eq(cap.job_events(job_b), [], "not processed while the record is missing")
job_row(job_b, acct, created)
msgs = cap.wait_messages(job_b, 2, timeout=15)
eq(sorted(e["rid"] for e, _ in msgs), [rid(job_b, 0, 0), rid(job_b, 0, 2)], "processed once the record is there")
evs = cap.wait_events(job_b, lambda e: len([x for x in e if x.get("subType") == "PROCESSING_FINISHED"]) == 2,
                      what="the events of job B")
evs = [e for e in evs if e.get("phase") in ("INTAKE", "PRE_PROCESS", "PROCESS")]
kinds = [e.get("subType", e["type"]) for e in evs]
eq(kinds, ["INTAKE", "SUPPRESSED", "PROCESSING_STARTED", "PROCESSING_STARTED", "PROCESSING_FINISHED",
           "PROCESSING_FINISHED"], "intake record, drop, STARTED per address, FINISHED per address, in order")
intake, dropev = evs[0], evs[1]
eq(intake["received"], created, "intake record: received")
eq([(x["rid"], x["dropped"], x["reference"]) for x in intake["recipients"]],
   [(rid(job_b, 0, 0), False, "ref-1"), (rid(job_b, 0, 1), True, "ref-1"), (rid(job_b, 0, 2), False, "ref-1")],
   "intake record: every address, dropped flagged")
eq((dropev["rid"], dropev["phase"], dropev["state"], dropev["type"]),
   (rid(job_b, 0, 1), "PRE_PROCESS", "FINISHED", "DROPPED"), "the drop event")
eq(dropev["ts_ms"], created, "drop event ts = receivedTs")
eq(dropev["description"], 'type="MANUAL", ts="2025-01-01T00:00:00.000Z", reason="x"', "drop description")
eq(dropev["tag"], tag(rid(job_b, 0, 1), "PRE_PROCESS", "FINISHED", "DROPPED", "SUPPRESSED"), "drop tag")
eq(dropev["mail"]["reference"], "ref-1", "drop event: reference")
eq(dropev.get("x"), {"suppressTouch": {"address": "a1@example.org"}},
   "a suppression drop carries x.suppressTouch (expiry reset of the entry)")
for e in evs[2:]:
    check(e["ts_ms"] >= created, "PROCESS events after acceptance")
    eq(e["received"], created, "received on every event")
    eq(e["account"], acct["id"], "account on every event")
starts = [e for e in evs if e.get("subType") == "PROCESSING_STARTED"]
eq([e["tag"] for e in starts], [tag(rid(job_b, 0, i), "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED")
                                for i in (0, 2)], "STARTED tags")
eq([e["mail"]["email"] for e in starts], ["a0@example.org", "a2@example.org"], "STARTED: mail.email")
eq([e["mail"]["from"] for e in starts], ["Shop <shop@%s>" % acct["domain"]] * 2, "STARTED: mail.from")
eq([e["data"].get("started") for e, _ in msgs], [True, True], "messages say the first stage is done")

# (c) a job an earlier stage already started: no second intake record or STARTED
job_c, data = rest_job(n=1)
data["started"] = True
submit(acct, job_c, data, stage=Q, row=False)
cap.wait_messages(job_c, 1)
evs = cap.wait_events(job_c, lambda e: any(x.get("subType") == "PROCESSING_FINISHED" for x in e))
eq([e.get("subType", e["type"]) for e in evs if e.get("phase") in ("INTAKE", "PROCESS")], ["PROCESSING_FINISHED"],
   "already started: only render's own event")

# (d) an SMTP job: recipients[], a dropped one
job_d = new_job()
raw = b"From: Shop <shop@" + acct["domain"].encode() + b">\r\nTo: x@example.org\r\nSubject: s\r\n\r\nhi\r\n"
data = smtp_data(acct, job_d, "shop@%s" % acct["domain"], ["r0@example.org", "r1@example.org", "r2@example.org"],
                 drops={1: ("FORBIDDEN_RECIPIENT", None)})
submit(acct, job_d, data, stage=Q, raw=raw)
msgs = cap.wait_messages(job_d, 2)
eq(sorted(e["rid"] for e, _ in msgs), [rid(job_d, 0, 0), rid(job_d, 2, 2)], "SMTP: one copy per accepted recipient")
evs = cap.wait_events(job_d, lambda e: len([x for x in e if x.get("subType") == "PROCESSING_FINISHED"]) == 2)
evs = [e for e in evs if e.get("phase") in ("INTAKE", "PRE_PROCESS", "PROCESS")]
eq([e.get("subType", e["type"]) for e in evs], ["INTAKE", "FORBIDDEN_RECIPIENT", "PROCESSING_STARTED",
                                               "PROCESSING_STARTED", "PROCESSING_FINISHED", "PROCESSING_FINISHED"],
   "SMTP: intake record, drop, STARTED, FINISHED")
eq(evs[0]["entry"], "smtp", "intake record of an SMTP job")
eq([(x["rid"], x["block"], x["index"]) for x in evs[0]["recipients"]],
   [(rid(job_d, i, i), i, i) for i in range(3)], "SMTP: block and address index = recipient index")
eq(evs[2]["mail"]["from"], "shop@%s" % acct["domain"], "SMTP: mail.from is the envelope sender")

# (e) a record that is not an acceptance (another account) is refused
job_e, data = rest_job(n=1)
other = new_account()
job_row(job_e, other, now_ms())
submit(acct, job_e, data, stage=Q, row=False)
wait_until(lambda: job_e in w.log_text() and "not an acceptance" in w.log_text(), 15, "refusal of job E")
eq(cap.job_events(job_e), [], "a record of another account: no events")
eq(cap.messages(job_e), [], "and nothing forwarded")
eq(w.alive(), True, "the worker is still running")
w.stop()
cap.delete()
done()
