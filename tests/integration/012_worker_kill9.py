"""Worker skeleton: kill -9 of a worker holding a job -> the broker
redelivers it to another worker, which processes it once."""
from txtest import *

declare_queue("testwork", "txmail.work")
declare_queue("testout3", "txmail.work")
drain("testout3"); drain("testwork")
rec = E["TXMAIL_STACK_DIR"] + "/testworker-kill.log"
open(rec, "w").close()
a = Program("txmail-testworker", "-o", "testworker_record_file=" + rec, log_name="tw-a")
time.sleep(1.0)
tag = uniq("k")
publish("txmail.work", "testwork", envelope(uniq("job"), ["testwork", "testout3"],
                                            {"action": "ok", "tag": tag, "sleep_ms": 4000}))
wait_until(lambda: any(l.startswith("start " + tag) for l in open(rec)), 15, "worker A started the job")
b = Program("txmail-testworker", "-o", "testworker_record_file=" + rec, log_name="tw-b")
time.sleep(1.0)
a.kill9()
out = wait_until(lambda: drain("testout3"), 30, "the job forwarded by worker B")
eq(len(out), 1, "forwarded once")
lines = [l.split() for l in open(rec) if tag in l]
done_lines = [l for l in lines if l[0] == "done"]
eq(len(done_lines), 1, "completed exactly once")
eq(int(done_lines[0][3]), b.pid, "completed by worker B")
time.sleep(1)
eq(drain("testout3"), [], "no duplicate afterwards")
done()
