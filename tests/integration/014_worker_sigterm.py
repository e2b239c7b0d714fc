"""Worker skeleton: SIGTERM finishes the job in hand, cancels the consumer
and exits 0; unstarted jobs stay queued for the next worker."""
from txtest import *

declare_queue("testwork", "txmail.work")
declare_queue("testout5", "txmail.work")
drain("testout5"); drain("testwork")
rec = E["TXMAIL_STACK_DIR"] + "/testworker-term.log"
open(rec, "w").close()
w = Program("txmail-testworker", "-o", "testworker_record_file=" + rec, "-o", "testworker_prefetch=1")
time.sleep(1)
tags = [uniq("s") for _ in range(3)]
for t in tags:
    publish("txmail.work", "testwork", envelope(uniq("job"), ["testwork", "testout5"], {"action": "ok", "tag": t, "sleep_ms": 1500}))
wait_until(lambda: any(l.startswith("start " + tags[0]) for l in open(rec)), 10, "first job started")
rc = w.stop(15)
eq(rc, 0, "exit status after SIGTERM")
out = drain("testout5")
eq([parse_envelope(b)[0]["data"]["tag"] for _, b in out], [tags[0]], "the job in hand was finished and forwarded")
eq(queue_count("testwork"), 2, "the unstarted jobs are back in the queue")
w2 = Program("txmail-testworker", "-o", "testworker_record_file=" + rec)
got = []
end = time.time() + 20
while len(got) < 2 and time.time() < end:
    got += drain("testout5", timeout=0.5)
eq(sorted(parse_envelope(b)[0]["data"]["tag"] for _, b in got), sorted(tags[1:]), "the next worker took the rest")
done()
