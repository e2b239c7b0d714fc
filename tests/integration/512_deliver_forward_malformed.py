"""txmail-deliver and malformed forwards: no data.id, an id not of the
form fw + 32 lowercase hex, no data.rcpt, no data.mailFrom, no raw
content -> each dead-lettered with its reason (the original body in the
dead-letter queue), nothing sent, no event; the worker lives on and
delivers the next forward."""
import re

from dlvtest import *
from fwdtest import *
from txtest import *

ev = Events()
w = Worker()
drain("dead")

r = "fwdbad-" + uniq("a") + "@example.net"
raw = reply_raw(r)
cases = [
    ("no id", forward(r, raw, queue=w.queue, id=None)[1], "forward without a valid data.id"),
    ("upper-case id", forward(r, raw, queue=w.queue, fid="fw" + "A" * 32)[1], "forward without a valid data.id"),
    ("short id", forward(r, raw, queue=w.queue, fid="fw1234")[1], "forward without a valid data.id"),
    ("no rcpt", forward(None, raw, queue=w.queue)[1], "without data.rcpt, data.mailFrom or raw content"),
    ("rcpt not a string", forward(["x@example.net"], raw, queue=w.queue)[1],
     "without data.rcpt, data.mailFrom or raw content"),
    ("no mailFrom", forward(r, raw, mail_from=None, queue=w.queue)[1],
     "without data.rcpt, data.mailFrom or raw content"),
    ("no raw", forward(r, b"", queue=w.queue)[1], "without data.rcpt, data.mailFrom or raw content"),
]
for _, body, _ in cases:
    publish("txmail.work", w.queue, body)
for what, body, reason in cases:
    job = job_of(body)
    wait_until(lambda: re.search(re.escape(job) + r": status=dead-letter \(.*" + re.escape(reason), w.log()), 15,
               "%s dead-lettered" % what)
got = []
end = time.time() + 15
mine = {b for _, b, _ in cases}
while len([b for _, b in got if b in mine]) < len(cases) and time.time() < end:
    got += drain("dead", timeout=0.5)
eq(sorted(b for _, b in got if b in mine), sorted(mine), "each original body in the dead letters")
reasons = [(p.headers or {}).get("x-txmail-dead-reason", "") for p, b in got if b in mine]
check(all(x.startswith("deliver: ") for x in reasons), "dead letters name deliver: %r" % reasons)
check(w.prog.alive(), "the worker survived")
eq(sink_for(r), [], "nothing sent")

# the next forward is delivered
r2 = "fwdgood-" + uniq("b") + "@example.net"
raw2 = reply_raw(r2)
fid, body = forward(r2, raw2, queue=w.queue)
publish("txmail.work", w.queue, body)
eq(sink_wait(r2, 1, 30)[0][1], raw2, "delivered afterwards")
time.sleep(1)
eq(ev.of(""), [], "no event for any of them")
eq(event_rows([b for _, b, _ in cases] + [body], fid), (), "no row in event")
w.stop()
done()
