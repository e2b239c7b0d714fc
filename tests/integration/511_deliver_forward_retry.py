"""txmail-deliver forwards that fail: a 451 at RCPT twice, then 250 ->
deferred twice through the delay tier, then delivered once; a 5xx ->
logged bounced once and never tried again; 4xx until deliver_max_age ->
one "forward failed" line (status=expired) with the last reply; no event
and no suppression row for any of them."""
import re

from dlvtest import *
from fwdtest import *
from txtest import *

ev = Events()
w = Worker("deliver_retry_schedule=1s", "deliver_max_age=1h")

# 4xx twice, then accepted
r1 = "defer2-" + uniq("a") + "@example.net"
_, rid1 = new_ids()
raw1 = reply_raw(r1)
f1, b1 = forward(r1, raw1, rid=rid1, why="complaint", queue=w.queue)
publish("txmail.work", w.queue, b1)
eq(sink_wait(r1, 1, 30)[0][1], raw1, "delivered after the retries, byte for byte")
log = w.log()
defs = re.findall(re.escape(f1) + r": rid=" + re.escape(rid1) + r", why=complaint, .*dsn=4\.3\.0, "
                  r"status=deferred \(451 4\.3\.0 ", log)
eq(len(defs), 2, "two deferrals logged")
check(re.search(re.escape(f1) + r": .*status=sent \(250 ", log) is not None, "the delivery logged")
time.sleep(1.5)
eq(len(sink_for(r1)), 1, "delivered once")

# 5xx: final, not retried
r2 = "unknown-" + uniq("b") + "@example.net"
f2, b2 = forward(r2, reply_raw(r2), queue=w.queue)
publish("txmail.work", w.queue, b2)
wait_until(lambda: re.search(re.escape(f2) + r": rid=none, .*dsn=5\.1\.1, status=bounced \(550 5\.1\.1 ", w.log()),
           15, "the bounce logged")
time.sleep(2.5)  # more than two retry tiers
eq(len(re.findall(re.escape(f2) + r": rid=", w.log())), 1, "one attempt, one line")
eq(sink_for(r2), [], "nothing stored")
eq(sql("SELECT COUNT(*) FROM delivery_record WHERE rid = %s", f2)[0][0], 0, "no delivery_record")
w.stop()

# 4xx until the maximum age: "forward failed"
w2 = Worker("deliver_retry_schedule=1s", "deliver_max_age=4s")
r3 = "datafail-" + uniq("c") + "@example.net"
_, rid3 = new_ids()
f3, b3 = forward(r3, reply_raw(r3), rid=rid3, queue=w2.queue, created=int(time.time() * 1000) - 1000)
publish("txmail.work", w2.queue, b3)
failed = re.escape(f3) + r": rid=" + re.escape(rid3) + r", why=reply, .*status=expired \(forward failed: " \
    r"\[4\.3\.0\] deferred \(host mx\.example\.net\[127\.0\.0\.1\] said: 451 4\.3\.0 Error: queue file write " \
    r"error \(test sink\)\)\)"
wait_until(lambda: re.search(failed, w2.log()), 30, "forward failed logged")
log2 = w2.log()
check(len(re.findall(re.escape(f3) + r": rid=.*status=deferred", log2)) >= 1, "deferred before")
eq(len(re.findall(re.escape(f3) + r": rid=.*status=expired", log2)), 1, "one final line")
time.sleep(1.5)
eq(len(re.findall(re.escape(f3) + r": rid=", w2.log())), len(re.findall(re.escape(f3) + r": rid=", log2)),
   "nothing after the final line")
eq(sink_for(r3), [], "never stored")
w2.stop()

time.sleep(1)
eq(ev.of(rid1) + ev.of(rid3) + ev.of(f1) + ev.of(f2) + ev.of(f3), [], "no event published")
eq(event_rows([b1, b2, b3], rid1, rid3, f1, f2, f3), (), "no row in event")
eq(sql("SELECT COUNT(*) FROM suppression WHERE address IN (%s, %s, %s)", r1.lower(), r2.lower(), r3.lower())[0][0],
   0, "nothing suppressed")
done()
