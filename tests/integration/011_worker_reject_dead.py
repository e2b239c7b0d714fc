"""Worker skeleton: REJECT publishes the handler's events and acks;
malformed or unknown-version messages go to dead letters, never crash."""
from txtest import *

declare_queue("testwork", "txmail.work")
declare_queue("testevents2", "txmail.events", "REJECTED.#")
drain("testevents2"); drain("dead"); drain("testwork")
rec = E["TXMAIL_STACK_DIR"] + "/testworker-reject.log"
open(rec, "w").close()
w = Program("txmail-testworker", "-o", "testworker_record_file=" + rec)

tag = uniq("rej")
publish("txmail.work", "testwork", envelope(uniq("job"), ["testwork"], {"action": "reject", "tag": tag}))
ev = wait_until(lambda: drain("testevents2"), 15, "REJECTED event")
eq(json.loads(ev[0][1])["description"], tag, "reject event carries the job's tag")

bad = [b"garbage without newline", b"{not json}\n", b'{"v":99,"type":"job","job":"x","account":1,"slip":["testwork"],"data":{},"raw_len":0}\n',
       b'{"v":1,"type":"job","job":"x","account":1,"slip":["testwork"],"data":{},"raw_len":10}\nshort',
       envelope("x", ["testwork"], {"action": "ok"}).replace(b'"slip":["testwork"]', b'"slip":[]')]
for b in bad:
    publish("txmail.work", "testwork", b)
got = []
end = time.time() + 20
while len(got) < len(bad) and time.time() < end:
    got += drain("dead", timeout=0.5)
eq(len(got), len(bad), "every malformed message is dead-lettered")
eq(sorted(b for _, b in got), sorted(bad), "dead letters carry the original bodies")
reasons = [(p.headers or {}).get("x-txmail-dead-reason", "") for p, _ in got]
check(all(r.startswith("testworker: ") for r in reasons), "each dead letter names its reason: %r" % reasons)
check(w.alive(), "the worker survived malformed input")
eq(queue_count("testwork"), 0, "nothing left in the work queue")
done()
