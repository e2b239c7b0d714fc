"""txmail-notify with its built-in network policy (notify_deny_networks
"default", no allow list) never connects to the internal addresses a tenant
may name as its webhook endpoint, however the address is spelled:
127.0.0.1, a name of the stack's DNS that resolves to 127.0.0.1
(txmail.test), localhost (/etc/hosts), 0.0.0.0, 169.254.169.254 (cloud
metadata), [::1], [::ffff:127.0.0.1]. No connection reaches the receivers
(IPv4 and IPv6); every such delivery is retried like any failed POST and then
dead-lettered into webhook_delivery with last_result "connect error: address
denied by policy ...". An allow entry opens exactly its range:
notify_allow_networks=127.0.0.2/32 lets the POST to 127.0.0.2 through while
127.0.0.1 stays refused. Redirects are never followed: a 307 from the
allowed endpoint pointing at another allowed URL is a failed attempt
("HTTP 307"), the target gets nothing. Runs its own txmail-notify (the stack's
configuration allows loopback for the other tests)."""
from txtest import *
from txevents import *

own = instead_of_stack("notify", "-o", "notify_max_age=3s", "-o", "notify_retry_schedule=1s",
                       "-o", "notify_timeout=2s", "-o", "notify_allow_networks=127.0.0.2/32", log_name="notify-320")

v4 = WebhookReceiver()
v6 = WebhookReceiver(host="::1")
opened = WebhookReceiver(host="127.0.0.2")
redir = WebhookReceiver(host="127.0.0.2", status_fn=lambda i: 307, location=opened.url + "-redirected")
acct = new_account()
A = acct["id"]
denied = ["http://127.0.0.1:%d/hook" % v4.port,
          "http://txmail.test:%d/hook" % v4.port,
          "http://localhost:%d/hook" % v4.port,
          "http://0.0.0.0:%d/hook" % v4.port,
          "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
          "http://[::1]:%d/hook" % v6.port,
          "http://[::ffff:127.0.0.1]:%d/hook" % v4.port]
cases = []
for i, url in enumerate(denied + [redir.url, opened.url]):
    job, received = insert_job(A, notification={"url": url})
    ev = event(A, job, rid(job), received, "DELIVER", "FINISHED", "DELIVERED", "OK",
               email="r%d@example.com" % i, frm="s@example.com")
    cases.append((url, job, ev))
t0 = time.time()
publish_events([c[2] for c in cases])

wait_until(lambda: len(opened.requests) >= 1, 20, "the POST to the allowed 127.0.0.2")
eq(json.loads(opened.requests[0]["body"])["notifications"][0]["meta"]["tag"], cases[-1][2]["tag"],
   "the allowed range gets its notification")


def dead_rows():
    return sql("SELECT url, state, last_result, attempts FROM webhook_delivery WHERE account_id=%s", A)


rows = wait_until(lambda: (lambda r: r if len(r) == len(denied) + 1 else None)(dead_rows()), 40,
                  "a dead letter per denied endpoint and for the redirect")
by_url = {r[0]: r for r in rows}
for url in denied:
    r = by_url.get(url)
    check(r is not None, "dead letter for %s" % url)
    eq(r[1], "dead", "state of %s" % url)
    check(r[2].startswith("connect error: address denied by policy"),
          "%s: last_result %r names the policy" % (url, r[2]))
    check(r[3] >= 2, "%s retried like any failed POST (%d attempts)" % (url, r[3]))
eq(v4.connections, 0, "no connection reached the IPv4 receiver on 127.0.0.1")
eq(v6.connections, 0, "no connection reached the IPv6 receiver on ::1")
eq(by_url[redir.url][2], "HTTP 307", "a redirect is a failed attempt")
check(len(redir.requests) >= 2, "the redirecting endpoint was retried (%d)" % len(redir.requests))
eq([r["path"] for r in opened.requests], ["/hook"], "the allowed endpoint got exactly its one POST, "
   "never the redirected one")
text = own.log_text()
for url, job, ev in cases[:len(denied)]:
    check("%s: tag=%s" % (ev["rid"], ev["tag"][:16]) in text, "outcome logged for %s" % url)
check("status=dead (connect error: address denied by policy" in text, "dead letters logged with the reason")
check(own.alive(), "notify survived")

# a malformed list stops start-up, naming the parameter
bad = Program("txmail-notify", "-o", "notify_allow_networks=127.0.0.0/33", log_name="notify-320-bad")
rc = bad.proc.wait(20)
check(rc != 0, "a malformed allow list stops start-up (rc %s)" % rc)
check("notify_allow_networks" in bad.log_text(), "naming the parameter")
done()
