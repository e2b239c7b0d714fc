"""txmail-recorder and txmail-notify: the broker restarts while events flow:
both reconnect (no process restart), every event is recorded once and every
notification is posted (duplicates only with the same tag)."""
from txtest import *
from txevents import *

D = E["TXMAIL_STACK_DIR"]
acct = new_account()
A = acct["id"]
hook = WebhookReceiver()
pids = {p: open(D + "/log/%s-1.log.pid" % p).read() for p in ("recorder", "notify")}
logpos = {p: len(open(D + "/log/%s-1.log" % p).read()) for p in ("recorder", "notify")}


def burst(n):
    evs = []
    for i in range(n):
        job, received = insert_job(A, notification={"url": hook.url})
        r = rid(job)
        m = dict(email="b%d@example.com" % i, frm="s@example.com")
        evs += [intake(A, job, received, [recipient(job, 0, 0, m["email"])]),
                event(A, job, r, received, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", **m),
                event(A, job, r, received, "DELIVER", "FINISHED", "DELIVERED", "OK", **m)]
    publish_events(evs)
    return [e for e in evs if "tag" in e]


evs = burst(20)
stack("restart-broker")
evs += burst(20)
tags = sorted(e["tag"] for e in evs)
wait_until(lambda: sql("SELECT COUNT(*) FROM event WHERE account_id=%s", A)[0][0] == len(evs), 90, "every event recorded")
eq(sorted(r[0] for r in sql("SELECT tag FROM event WHERE account_id=%s", A)), tags, "exactly the published events")
wait_until(lambda: set(tags) <= {n["meta"]["tag"] for _, n, _ in hook.notifications()}, 90, "every notification posted")
want = {e["tag"]: notification(e) for e in evs}
check(all(n == want[n["meta"]["tag"]] for _, n, _ in hook.notifications()), "duplicates only with the same tag and content")
for p in ("recorder", "notify"):
    eq(open(D + "/log/%s-1.log.pid" % p).read(), pids[p], "%s reconnected without a restart" % p)
    check("reconnected" in open(D + "/log/%s-1.log" % p).read()[logpos[p]:], "%s logged its reconnect" % p)
done()
