"""txmail-notify never drops a tracking webhook (an event that carries only
its recipient id) because the recorder lags: with the recorder stopped for
longer than notify_orphan_wait (the stack: 5 s) the OPENED event waits in
the delay tiers ("status=deferred (no message row ...)"), and once the
recorder is back and has written the message row the webhook arrives,
exactly once, completed from the row. An event whose message row never
appears is dead-lettered to txmail.dead after notify_max_age (own notify,
3 s), never silently dropped."""
import atexit
import os
import signal
from txtest import *
from txevents import *

D = E["TXMAIL_STACK_DIR"]


def stop_stack_program(name):
    sup = int(open(D + "/run/%s-1.pid" % name).read())
    child = int(open(D + "/log/%s-1.log.pid" % name).read())
    os.kill(sup, signal.SIGTERM)
    wait_until(lambda: not os.path.exists("/proc/%d" % child), 30, "the stack's %s stopped" % name)


atexit.register(lambda: stack("programs-up"))
hook = WebhookReceiver()
acct = new_account()
A = acct["id"]


def opened(job, r, when):
    ev = event(A, job, r, 0, "POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", ts=when, key=iso(when),
               content={"tracking": {"userAgent": "ua", "ip": "127.0.0.0", "ts": iso(when)}})
    ev["account"] = 0   # as txmail-track publishes it: completed from the message row
    del ev["received"]
    ev["mail"] = {}
    return ev


# ---- the recorder lags longer than notify_orphan_wait
stop_stack_program("recorder")
job, received = insert_job(A, notification={"url": hook.url})
r = rid(job)
ev = opened(job, r, now_ms())
publish_events([intake(A, job, received, [recipient(job, 0, 0, "Lag <lag@example.com>")]), ev])
logp = D + "/log/notify-1.log"
wait_until(lambda: "%s: tag=%s" % (r, ev["tag"][:16]) in open(logp).read(), 20, "notify gave up waiting in hand")
time.sleep(6)   # well past notify_orphan_wait, through more than one tier
lines = [l for l in open(logp).read().splitlines() if ev["tag"][:16] in l]
check(all("status=deferred (no message row for this recipient id yet" in l for l in lines),
      "only deferrals, never dropped: %s" % lines[-1][-120:])
check(len(lines) >= 2, "parked more than once while the recorder is away (%d)" % len(lines))
eq(len(hook.requests), 0, "nothing posted without the message row")
check(not sql("SELECT 1 FROM message WHERE rid=%s", r), "no message row while the recorder is away")
stack("programs-up")
wait_until(lambda: len(hook.requests) >= 1, 30, "the webhook once the recorder is back")
n = json.loads(hook.requests[0]["body"])["notifications"]
eq([x["meta"]["tag"] for x in n], [ev["tag"]], "the OPENED notification")
eq(n[0]["meta"]["mail"].get("email"), "Lag <lag@example.com>", "completed from the message row")
time.sleep(3)
eq(len(hook.requests), 1, "posted once")

# ---- a message row that never comes: dead-lettered after notify_max_age
stop_stack_program("notify")
own = Program("txmail-notify", "-o", "notify_max_age=3s", "-o", "notify_retry_schedule=1s",
              "-o", "notify_orphan_wait=1s", log_name="notify-323")
atexit.register(own.stop)
drain("dead")
job2, _ = insert_job(A, notification={"url": hook.url})
ev2 = opened(job2, rid(job2), now_ms())
p = Publisher()
p.raw("", "events.notify", json.dumps(ev2, separators=(",", ":")))   # notify's queue only
p.close()
got = []
wait_until(lambda: got.extend(drain("dead", timeout=0.3)) or
           any((pr.headers or {}).get("x-txmail-dead-reason", "").startswith("notify: no message row")
               for pr, _ in got), 30, "the orphan dead-lettered")
mine = [(pr, b) for pr, b in got if (pr.headers or {}).get("x-txmail-dead-reason", "").startswith("notify: ")]
eq(len(mine), 1, "one dead letter")
eq(json.loads(mine[0][1])["tag"], ev2["tag"], "the event itself, for an operator to replay")
check(now_ms() - ev2["ts_ms"] >= 3000, "only after notify_max_age")
check("status=dead (no message row for this recipient id after" in own.log_text(), "logged")
eq(len(hook.requests), 1, "nothing posted for the orphan")
own.stop()
done()
