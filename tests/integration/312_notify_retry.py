"""txmail-notify: an endpoint answering 500 (or redirecting) for a while,
then 200 - and an endpoint that is down (port closed), then up: every
notification arrives later, none with a different tag, each retried body
byte-identical to the first attempt, each attempt freshly and validly
signed. Retries go through the broker's delay tiers (stack schedule 1s,2s,4s)."""
import hashlib
import hmac
from txtest import *
from txevents import *

acct = new_account()
A = acct["id"]


def sig_ok(req):
    sig = {k.lower(): v for k, v in req["headers"].items()}["x-txmail-signature"]
    parts = dict(p.split("=", 1) for p in sig.split(","))
    want = hmac.new(acct["webhook_secret"].encode(), parts["t"].encode() + b"." + req["body"], hashlib.sha256).hexdigest()
    return parts["v1"] == want, int(parts["t"])


def lifecycle(job, received, n):
    evs = []
    for i in range(n):
        r = rid(job, 0, i)
        m = dict(email="r%d@example.com" % i, frm="s@example.com")
        evs += [event(A, job, r, received, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=received + 10, **m),
                event(A, job, r, received, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=received + 20, key="1", **m),
                event(A, job, r, received, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=received + 30, **m)]
    return evs


def check_delivery(hook, evs, what):
    ok = [r for r in hook.requests if r.get("status") == 200]
    got = {}
    for r in ok:
        for n in json.loads(r["body"])["notifications"]:
            got.setdefault(n["meta"]["tag"], []).append(n)
    eq(sorted(got), sorted(e["tag"] for e in evs), what + ": every notification arrived (by tag)")
    want = {e["tag"]: notification(e) for e in evs}
    check(all(all(n == want[t] for n in ns) for t, ns in got.items()),
          what + ": each tag always carries the same notification")
    keyset = {}
    for t, ns in got.items():
        ev = ns[0]["meta"]["event"]
        keyset.setdefault((ns[0]["meta"]["mail"]["id"], ev["type"], ev["subType"]), set()).add(t)
    check(all(len(v) == 1 for v in keyset.values()), what + ": no event arrived twice with a different tag")


class Hook(WebhookReceiver):
    """records the status it answered with each request"""

    def __init__(self, statuses, **kw):
        self.statuses = statuses
        super().__init__(status_fn=self.status, **kw)

    def status(self, idx):
        s = self.statuses(idx)
        self.requests[idx]["status"] = s
        return s


# 1. 500 for the first two attempts, a redirect for the third, then 200
hook = Hook(lambda i: 500 if i < 2 else 302 if i == 2 else 200)
job, received = insert_job(A, notification={"url": hook.url})
evs = lifecycle(job, received, 3)
publish_events(evs)
wait_until(lambda: any(r.get("status") == 200 for r in hook.requests), 40, "the POST succeeding after retries")
time.sleep(1)
reqs = hook.requests
eq([r["status"] for r in reqs], [500, 500, 302, 200], "attempts: two 500s, one 302 (not followed), then 200")
eq(len(set(r["body"] for r in reqs)), 1, "every attempt sent the identical body")
sigs = [sig_ok(r) for r in reqs]
check(all(s[0] for s in sigs), "every attempt validly signed")
gaps = [reqs[i + 1]["ts"] - reqs[i]["ts"] for i in range(len(reqs) - 1)]
check(gaps[0] >= 0.9 and gaps[1] >= 1.9 and gaps[2] >= 3.9, "backoff through the delay tiers 1s, 2s, 4s: %r" % gaps)
check(sigs[-1][1] > sigs[0][1], "a fresh signature timestamp on the retry")
check_delivery(hook, evs, "500 then 200")
logt = open(E["TXMAIL_STACK_DIR"] + "/log/notify-1.log").read()
check("status=deferred (HTTP 500; retry in 1s)" in logt and "status=deferred (HTTP 302; retry in 4s)" in logt,
      "each failed attempt logged with its result")

# 2. endpoint down (port closed), then up on the same port
port = int(E["TXMAIL_PORT_SPARE1"])
url = "http://127.0.0.1:%d/hook" % port
job2, received2 = insert_job(A, notification={"url": url})
evs2 = lifecycle(job2, received2, 4)
publish_events(evs2)
time.sleep(4)
check("%s: tag=" % rid(job2) in open(E["TXMAIL_STACK_DIR"] + "/log/notify-1.log").read()
      and "connect error" in open(E["TXMAIL_STACK_DIR"] + "/log/notify-1.log").read(), "connection refused, retrying")
up = Hook(lambda i: 200, port=port)
wait_until(lambda: up.requests, 30, "the POST once the endpoint is up")
time.sleep(1.5)
check_delivery(up, evs2, "down then up")
eq(len(up.requests), 1, "one POST carries all twelve notifications after the outage")
done()
