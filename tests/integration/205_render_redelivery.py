"""txmail-render: kill -9 in the middle of a large job. The job is rendered
in rounds (render_batch_size): each round's messages, events and the
continuation are confirmed before the input is acked. A worker killed
mid-job leaves the current round to the broker; a second worker finishes
the job. Every address gets its message (same recipient ids), the events of
one address keep their tags however often they were re-created, and the
intake record and PROCESSING_STARTED are published once."""
from txtest import *
from rendertest import *

Q = "t_render_kill"
declare_queue(Q, "txmail.work", Q)
cap = Capture("kill")
acct = account_with_domain()
N = 300
opts = ["-o", "render_queue=" + Q, "-o", "render_batch_size=1", "-o", "render_concurrency=1"]
a = Program("txmail-render", *opts, log_name="render-kill-a")
time.sleep(1.0)

job = new_job()
body = "<html><body>" + "<p>" + "lorem ipsum dolor sit amet " * 4000 + "</p></body></html>"
r = {"subject": {"content": "big"}, "body": {"contentType": "text/html", "content": body},
     "mail": {"from": {"email": "Shop <shop@%s>" % acct["domain"]}},
     "recipients": [{"mail": {"to": [{"email": "u%03d@example.org" % i} for i in range(N)]}}]}
submit(acct, job, rest_data(acct, r, job), stage=Q)
wait_until(lambda: len(cap.messages(job)) >= 20, 60, "the first rounds")
a.kill9()
seen_at_kill = len(cap.messages(job))
check(seen_at_kill < N, "killed mid-job (%d of %d messages out)" % (seen_at_kill, N))
b = Program("txmail-render", *opts, log_name="render-kill-b")
msgs = wait_until(lambda: (lambda m: m if len({e["rid"] for e, _ in m}) == N else None)(cap.messages(job)),
                  120, "every address rendered")
want = {rid(job, 0, i) for i in range(N)}
eq({e["rid"] for e, _ in msgs}, want, "the same recipient ids, every one of them")
# render's own count: one "status=rendered" line per copy it built (both workers' logs);
# the bound is on re-rendering. The broker may hand the capture queue a message more
# than once (seen in CI on 2026-12-08 for rounds long before the kill, each rendered
# once by the logs); those copies must be identical, which the checks below assert.
rendered = sum(1 for w in (a, b) for line in w.log_text().splitlines()
               if "status=rendered" in line and (": " + job + "#") in line)
check(rendered - N <= 2, "at most the interrupted round rendered again (%d re-rendered)" % (rendered - N))
log("copies seen at the capture queue: %d for %d addresses" % (len(msgs), N))
dups = {}
for e, raw in msgs:
    dups.setdefault(e["rid"], set()).add((e["data"]["messageId"], len(raw)))
eq(max(len(v) for v in dups.values()), 1, "copies of one address are identical")
for e, raw in msgs[:3] + msgs[-3:]:
    check(dkim_verify(raw), "DKIM of %s" % e["rid"])

time.sleep(1.0)
evs = cap.job_events(job)
intakes = [e for e in evs if e.get("type") == "INTAKE"]
eq(len(intakes), 1, "one intake record")
starts = [e for e in evs if e.get("subType") == "PROCESSING_STARTED"]
eq(len(starts), N, "PROCESSING_STARTED once per address")
fins = [e for e in evs if e.get("subType") == "PROCESSING_FINISHED"]
eq({e["rid"] for e in fins}, want, "PROCESSING_FINISHED for every address")
bad = [e for e in fins if e["tag"] != tag(e["rid"], "PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED")]
eq(bad, [], "a re-created event has the same tag")
by_rid = {}
for e in fins:
    by_rid.setdefault(e["rid"], set()).add((e["tag"], e["content"]["mime"]["messageId"]))
eq(max(len(v) for v in by_rid.values()), 1, "duplicates are identical in tag and Message-ID")
eq(queue_count(Q), 0, "nothing left in the queue")
eq(b.alive(), True, "worker B still running")
b.stop()
cap.delete()
done()
