"""txmail-notify: a slow endpoint (every answer takes 4 s) never delays
another endpoint's notifications: per-endpoint in-flight limit, and POSTs
that wait too long for a slot are parked in the delay tiers. The slow
endpoint still gets everything in the end."""
from txtest import *
from txevents import *

acct = new_account()
A = acct["id"]
slow = WebhookReceiver(delay=4.0)
fast = WebhookReceiver()


def one(url, i):
    job, received = insert_job(A, notification={"url": url})
    r = rid(job)
    return event(A, job, r, received, "DELIVER", "FINISHED", "DELIVERED", "OK", email="r%d@example.com" % i,
                 frm="s@example.com")


slow_evs = [one(slow.url, i) for i in range(16)]
publish_events(slow_evs)
time.sleep(1.5)  # the slow endpoint's POSTs are in flight and queued now
t0 = time.time()
fast_evs = [one(fast.url, i) for i in range(10)]
publish_events(fast_evs)
wait_until(lambda: len(fast.requests) >= 10, 10, "the fast endpoint's POSTs")
lat = max(r["ts"] for r in fast.requests) - t0
check(lat < 2.5, "the fast endpoint got all ten within %.2fs despite the slow one" % lat)
with slow.lock:
    concurrent = max(sum(1 for q in slow.requests if q["ts"] <= r["ts"] < q["ts"] + 4.0) for r in slow.requests)
check(concurrent <= 4, "at most notify_endpoint_concurrency (4) POSTs in flight at the slow endpoint: %d" % concurrent)


def tags(h):
    return sorted({n["meta"]["tag"] for _, n, _ in h.notifications()})


wait_until(lambda: tags(slow) == sorted(e["tag"] for e in slow_evs), 60, "every notification at the slow endpoint")
eq(tags(fast), sorted(e["tag"] for e in fast_evs), "every notification at the fast endpoint")
check("status=parked" in open(E["TXMAIL_STACK_DIR"] + "/log/notify-1.log").read(),
      "POSTs that waited for a slot were parked, not held")
done()
