"""Worker skeleton: broker restart while jobs flow -> workers reconnect and
every accepted job arrives (at least once; ids complete)."""
from txtest import *

declare_queue("testwork", "txmail.work")
declare_queue("testout4", "txmail.work")
drain("testout4"); drain("testwork")
rec = E["TXMAIL_STACK_DIR"] + "/testworker-restart.log"
open(rec, "w").close()
w = Program("txmail-testworker", "-o", "testworker_record_file=" + rec, "-o", "broker_reconnect_attempts=100")
tags = [uniq("b") for _ in range(40)]
for t in tags[:20]:
    publish("txmail.work", "testwork", envelope(uniq("job"), ["testwork", "testout4"], {"action": "ok", "tag": t, "sleep_ms": 50}))
stack("restart-broker")
for t in tags[20:]:
    publish("txmail.work", "testwork", envelope(uniq("job"), ["testwork", "testout4"], {"action": "ok", "tag": t}))
seen = set()
end = time.time() + 60
while time.time() < end and seen != set(tags):
    for _, body in drain("testout4", timeout=0.5):
        seen.add(parse_envelope(body)[0]["data"]["tag"])
eq(sorted(seen), sorted(tags), "every job arrived after the broker restart")
check(w.alive(), "the worker reconnected instead of exiting")
check("reconnected" in w.log_text(), "the worker logged its reconnect")
done()
