"""Worker skeleton: RETRY goes through the delay queue and comes back with
attempt+1; the retry budget used up calls the expired hook (final event)."""
from txtest import *

declare_queue("testwork", "txmail.work")
declare_queue("testout", "txmail.work")
declare_queue("testevents", "txmail.events", "#")
drain("testout"); drain("testevents"); drain("testwork")
rec = E["TXMAIL_STACK_DIR"] + "/testworker-retry.log"
open(rec, "w").close()
w = Program("txmail-testworker", "-o", "testworker_record_file=" + rec,
            "-o", "testworker_retry_schedule=1s", "-o", "testworker_max_attempts=3")

tag = uniq("r")
jid = uniq("job")
publish("txmail.work", "testwork", envelope(jid, ["testwork", "testout"], {"action": "retry", "tag": tag}))


def lines():
    return [l.split() for l in open(rec).read().splitlines() if l.split()[1] == tag]


recs = wait_until(lambda: [l for l in lines() if l[0] == "done"] if len([l for l in lines() if l[0] == "done"]) >= 3 else None,
                  30, "three attempts")
eq([int(l[2]) for l in recs], [0, 1, 2], "attempt numbers of the three tries")
ev = wait_until(lambda: drain("testevents"), 15, "the EXPIRED event")
docs = [d for _, b in ev for d in event_docs(b)]
check(any(d["type"] == "EXPIRED" and d.get("description") == tag for d in docs), "expired hook published its event")
time.sleep(2)
eq(len([l for l in lines() if l[0] == "done"]), 3, "no fourth attempt")
eq(drain("testout"), [], "a job that never succeeded is not forwarded")

# timing: the retry came back through the 1 s tier, not at once
t = [l for l in w.log_text().splitlines() if jid in l and "status=" in l]
eq([l.split("status=")[1].split()[0] for l in t], ["deferred", "deferred", "expired"], "one outcome line per try")

# a job that succeeds is forwarded to the next stage of its slip, with attempt reset
tag2 = uniq("ok")
publish("txmail.work", "testwork", envelope(uniq("job"), ["testwork", "testout"], {"action": "ok", "tag": tag2}))
got = wait_until(lambda: drain("testout"), 15, "the forwarded job")
env, raw = parse_envelope(got[0][1])
eq(env["slip"], ["testout"], "slip popped")
eq(env["data"]["tag"], tag2, "data forwarded")
eq(w.alive(), True, "worker still running")
done()
