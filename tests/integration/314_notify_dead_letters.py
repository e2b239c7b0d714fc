"""txmail-notify: retries past notify_max_age are dead-lettered: one
webhook_delivery row per notification (state dead, attempts, first and last
attempt, last result "HTTP <status>" / "timeout" / "connect error: ...",
the notification as it would have been posted), acked, never posted again.
An address in notify_deny_networks is never connected to.
Runs its own txmail-notify (max age 3 s, timeout 1 s) instead of the stack's."""
from txtest import *
from txevents import *

own = instead_of_stack("notify", "-o", "notify_max_age=3s", "-o", "notify_retry_schedule=1s",
                       "-o", "notify_timeout=1s", "-o", "notify_deny_networks=127.0.0.2/32, fc00::/7",
                       "-o", "notify_allow_networks=127.0.0.1/32",
                       log_name="notify-314")
time.sleep(0.5)

acct = new_account()
A = acct["id"]
failing = WebhookReceiver(status_fn=lambda i: 503)
hanging = WebhookReceiver(delay=2.5)
hanging.server.handle_error = lambda *a: None  # the client hangs up at its timeout
closed = "http://127.0.0.1:%s/closed" % E["TXMAIL_PORT_SPARE2"]
cases = []
denied = "http://127.0.0.2:%d/hook" % failing.port
for url, want in ((failing.url, "HTTP 503"), (hanging.url, "timeout"), (closed, "connect error: "),
                  (denied, "connect error: address denied by policy")):
    # attempts at 0, 1, 2, 3 s; a timeout takes 1 s each: 0-1, 2-3
    job, received = insert_job(A, notification={"url": url})
    evs = [event(A, job, rid(job, 0, i), received, "DELIVER", "FINISHED", "DELIVERED", "OK", email="d%d@example.com" % i,
                 frm="s@example.com", message_id="<m%d@x>" % i) for i in range(2)]
    cases.append((url, want, job, evs))
t0 = time.time()
publish_events([e for c in cases for e in c[3]])


def dead_rows():
    return sql("SELECT tag, job_id, rid, url, state, attempts, first_attempt_at, last_attempt_at, last_result, "
               "notification, account_id FROM webhook_delivery WHERE account_id=%s", A)


rows = wait_until(lambda: (lambda r: r if len(r) == 8 else None)(dead_rows()), 30, "eight dead letters")
took = time.time() - t0
check(took >= 3.0, "dead-lettered only after the maximum age (%.1fs)" % took)
by_tag = {r[0]: r for r in rows}
for url, want, job, evs in cases:
    for e in evs:
        r = by_tag[e["tag"]]
        eq((r[1], r[2], r[3], r[4], r[10]), (job, e["rid"], url, "dead", A), "row of %s: job, rid, url, state" % e["rid"])
        check(r[8].startswith(want), "last_result %r starts with %r" % (r[8], want))
        check(r[5] >= (2 if want == "timeout" else 3), "attempts counted (%d)" % r[5])
        span = (ms_of(r[7]) - ms_of(r[6])) / 1000.0
        check(3.0 <= span < 10, "first to last attempt spans the maximum age (%.1fs)" % span)
        eq(json.loads(r[9]), notification(e), "the notification as it would have been posted")
n503 = len(failing.requests)
check(n503 >= 3, "the failing endpoint saw every attempt (%d)" % n503)
eq(len(set(r["body"] for r in failing.requests)), 1, "the same body each time")
time.sleep(2.5)
eq(len(failing.requests), n503, "no attempt after the dead letter")
eq(queue_count("notify"), 0, "nothing left in the retry queue")
eq(queue_count("events.notify"), 0, "every event acked")
check("status=dead (HTTP 503)" in own.log_text(), "dead letters logged with their result")

# a webhook retry envelope past its age, as another notify left it, is dead-lettered too
job, received = insert_job(A, notification={"url": failing.url})
ev = event(A, job, rid(job), received, "DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE", email="o@example.com", frm="s@example.com")
body = json.dumps({"meta": {"version": "1", "jobId": job}, "notifications": [notification(ev)]}, separators=(",", ":")).encode()
data = {"url": failing.url, "headers": None, "auth": None, "jobId": job, "accountId": A, "tags": [ev["tag"]],
        "rids": [ev["rid"]], "firstAttempt": now_ms() - 25 * 3600 * 1000, "attempts": 33, "lastResult": "HTTP 503"}
publish("txmail.work", "notify", envelope(job, ["notify"], data, typ="webhook", account=A, attempt=33, raw=body))
row = wait_until(lambda: sql("SELECT attempts, last_result, state FROM webhook_delivery WHERE tag=%s", ev["tag"]), 15,
                 "the old retry dead-lettered after one more attempt")
eq(row[0], (34, "HTTP 503", "dead"), "attempts continue from the envelope")
# a malformed retry envelope goes to txmail.dead
drain("dead")
publish("txmail.work", "notify", envelope(job, ["notify"], {"url": "gopher://x"}, typ="webhook", account=A, raw=b"x"))
d = wait_until(lambda: drain("dead", timeout=0.3), 15, "malformed retry dead-lettered")
check((d[0][0].headers or {}).get("x-txmail-dead-reason", "").startswith("notify: "), "with notify's reason")
check(own.alive(), "notify survived")
done()
