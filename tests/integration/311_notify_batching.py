"""txmail-notify: several events of one job go out in one POST, never more
than notify_batch_max per POST and never two jobs in one POST; the
account's default endpoint (with its headers and Basic credentials) is used
when the job has none, nothing is posted without either; notifyEventTypes
restricts the types; during a secret rotation the signature carries two
v1 values, the new one first."""
import base64
import hashlib
import hmac
from txtest import *
from txevents import *

hook = WebhookReceiver()
acct = new_account()
A = acct["id"]


def lifecycle(job, received, r, i):
    t = received + 100 + i
    m = dict(email="r%d@example.com" % i, frm="s@example.com")
    return [event(A, job, r, received, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=t, **m),
            event(A, job, r, received, "PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED", ts=t + 1, **m),
            event(A, job, r, received, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=t + 2, **m)]


def posts_for(job):
    out = []
    for req in list(hook.requests):
        d = json.loads(req["body"])
        if d["meta"]["jobId"] == job:
            out.append(d)
    return out


# one job, 2 recipients x 3 events, published together: one POST with all six
job1, rc1 = insert_job(A, notification={"url": hook.url})
evs1 = lifecycle(job1, rc1, rid(job1, 0, 0), 0) + lifecycle(job1, rc1, rid(job1, 0, 1), 1)
# and a second job at the same endpoint at the same time: its own POST
job2, rc2 = insert_job(A, notification={"url": hook.url})
evs2 = lifecycle(job2, rc2, rid(job2), 2)
publish_events(evs1 + evs2)
wait_until(lambda: posts_for(job1) and posts_for(job2), 15, "POSTs of both jobs")
time.sleep(1.5)
p1 = posts_for(job1)
eq(len(p1), 1, "the six events of job 1 in one POST")
eq(sorted(n["meta"]["tag"] for n in p1[0]["notifications"]), sorted(e["tag"] for e in evs1),
   "every notification of job 1, no other job's")
eq(len(posts_for(job2)), 1, "job 2 in its own POST")
eq([n["meta"]["tag"] for n in posts_for(job2)[0]["notifications"]], [e["tag"] for e in evs2],
   "job 2's notifications")

# 250 notifications of one job: POSTs of at most 100
job3, rc3 = insert_job(A, notification={"url": hook.url})
evs3 = []
for i in range(84):
    evs3 += lifecycle(job3, rc3, rid(job3, 0, i), i)
evs3 = evs3[:250]
publish_events(evs3)
wait_until(lambda: sum(len(d["notifications"]) for d in posts_for(job3)) >= 250, 20, "all 250 notifications")
time.sleep(1.2)
sizes = sorted(len(d["notifications"]) for d in posts_for(job3))
check(all(s <= 100 for s in sizes), "no POST over notify_batch_max (100): %r" % sizes)
eq(len(sizes), 3, "250 notifications in three POSTs")
eq(sorted(n["meta"]["tag"] for d in posts_for(job3) for n in d["notifications"]), sorted(e["tag"] for e in evs3),
   "each notification exactly once")

# the account's default endpoint with its headers and credentials
dflt = WebhookReceiver()
acct2 = new_account(notify_url=dflt.url + "?default")
A2 = acct2["id"]
sql("UPDATE account SET notify_headers=%s, notify_user=%s, notify_password=%s WHERE id=%s",
    json.dumps({"X-Account-Header": "yes", "Host": "evil.example"}), "acctuser", encrypt("acct-secret"), A2)
job4, rc4 = insert_job(A2)
ev4 = event(A2, job4, rid(job4), rc4, "DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE", email="x@example.com",
            frm="s@example.com", smtp_code="550")
publish_events([ev4])
req = wait_until(lambda: dflt.requests, 15, "POST to the account default")[0]
h = {k.lower(): v for k, v in req["headers"].items()}
eq(req["path"], "/hook?default", "account default URL")
eq((h.get("x-account-header"), h.get("authorization"), h.get("host")),
   ("yes", "Basic " + base64.b64encode(b"acctuser:acct-secret").decode(), "127.0.0.1:%d" % dflt.port),
   "its headers and credentials; Host is never overridden")
eq(json.loads(req["body"])["notifications"], [notification(ev4)], "the notification")

# a job endpoint replaces the account default as a whole
job5, rc5 = insert_job(A2, notification={"url": hook.url + "?own"})
ev5 = event(A2, job5, rid(job5), rc5, "DELIVER", "FINISHED", "DELIVERED", "OK", email="y@example.com", frm="s@example.com")
publish_events([ev5])
req5 = wait_until(lambda: [r for r in hook.requests if r["path"] == "/hook?own"], 15, "POST to the job endpoint")[0]
h5 = {k.lower(): v for k, v in req5["headers"].items()}
check("authorization" not in h5 and "x-account-header" not in h5, "nothing of the account default is mixed in")

# no endpoint at all: nothing is posted
acct3 = new_account()
job6, rc6 = insert_job(acct3["id"])
# notifyEventTypes: only DELIVERED for account 4
acct4 = new_account(settings={"notifyEventTypes": ["DELIVERED", "BOUNCED.HARD_BOUNCE"]})
job7, rc7 = insert_job(acct4["id"], notification={"url": hook.url + "?types"})
r7 = rid(job7)
evs7 = [event(acct4["id"], job7, r7, rc7, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", email="z@example.com", frm="s@example.com"),
        event(acct4["id"], job7, r7, rc7, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", key="1", email="z@example.com", frm="s@example.com"),
        event(acct4["id"], job7, r7, rc7, "DELIVER", "FINISHED", "DELIVERED", "OK", email="z@example.com", frm="s@example.com")]
publish_events([event(acct3["id"], job6, rid(job6), rc6, "DELIVER", "FINISHED", "DELIVERED", "OK", email="n@example.com",
                      frm="s@example.com")] + evs7)
req7 = wait_until(lambda: [r for r in hook.requests if r["path"] == "/hook?types"], 15, "POST of account 4")
time.sleep(1.5)
eq([n["meta"]["event"]["type"] for r in req7 for n in json.loads(r["body"])["notifications"]], ["DELIVERED"],
   "only the types the account asked for")
eq([r for r in hook.requests + dflt.requests if json.loads(r["body"])["meta"]["jobId"] == job6], [],
   "no endpoint: nothing posted")
logt = open(E["TXMAIL_STACK_DIR"] + "/log/notify-1.log").read()
check("%s: tag=" % rid(job6) in logt and "status=noendpoint" in logt, "the skip is logged by recipient id")
check("%s: tag=%s status=filtered" % (r7, evs7[0]["tag"][:16]) in logt, "the filtered type is logged")

# secret rotation: two v1 values, the new secret first
sql("UPDATE account SET webhook_secret_prev=%s, webhook_secret_rotated_at=UTC_TIMESTAMP(3) WHERE id=%s",
    encrypt("old-secret"), A)
time.sleep(2.5)  # notify_cache_ttl of the stack
job8, rc8 = insert_job(A, notification={"url": hook.url + "?rot"})
publish_events([event(A, job8, rid(job8), rc8, "DELIVER", "FINISHED", "DELIVERED", "OK", email="q@example.com",
                      frm="s@example.com")])
req8 = wait_until(lambda: [r for r in hook.requests if r["path"] == "/hook?rot"], 15, "POST during rotation")[0]
sig = {k.lower(): v for k, v in req8["headers"].items()}["x-txmail-signature"]
parts = [p.split("=", 1) for p in sig.split(",")]
t = parts[0][1]
mac = lambda key: hmac.new(key, t.encode() + b"." + req8["body"], hashlib.sha256).hexdigest()
eq([p[0] for p in parts], ["t", "v1", "v1"], "two v1 values during the rotation")
eq([parts[1][1], parts[2][1]], [mac(acct["webhook_secret"].encode()), mac(b"old-secret")], "new secret first, then the old")
done()
