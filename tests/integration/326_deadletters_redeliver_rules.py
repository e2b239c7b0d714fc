"""Redelivery rules (contract §11.2, §2, §11.1): an unknown or malformed
tag answers 404, another account's dead letter answers 404 and stays a
dead letter; the notification goes where notify would post it now: the
job's endpoint, else the account's default endpoint (also when it changed
since), else the URL it was dead-lettered at; the top-level meta is the
job's and the account's (references, tenant). Runs on the stack's
txmail-notify."""
from txtest import *
from txevents import *
from txmanage import *

hook_job = WebhookReceiver()
hook_acct = WebhookReceiver()
hook_old = WebhookReceiver()
A = new_account()
B = new_account(notify_url=hook_acct.url)
C = new_account()
sql("UPDATE account SET tenant='Tenant C' WHERE id=%s", C["id"])


def wait_tag(hook, tag):
    def f():
        for r in list(hook.requests):
            doc = json.loads(r["body"])
            for n in doc["notifications"]:
                if n["meta"]["tag"] == tag:
                    return doc, n
        return None
    return wait_until(f, 20, "notification %s at %s" % (tag[:12], hook.url))


def redeliver(acct, tag):
    return call(acct, "POST", DEAD + "/" + tag + "/redeliver")


# errors
for tag in ("0" * 64, "f" * 64, "xyz", "A" * 64, "0" * 65):
    error_is(redeliver(A, tag), 404, "NOT_FOUND", "Unknown dead letter", "unknown tag %s" % tag[:10])
evA, jobA = dead_row(A["id"], url=hook_old.url)
error_is(redeliver(B, evA["tag"]), 404, "NOT_FOUND", "Unknown dead letter", "B redelivering A's dead letter")
eq(sql("SELECT state FROM webhook_delivery WHERE tag=%s", evA["tag"])[0][0], "dead", "A's row untouched")
s, h, _, _ = call(A, "GET", DEAD + "/" + evA["tag"] + "/redeliver")
eq((s, h.get("allow")), (405, "POST"), "GET on redeliver: 405")

# 1. the job's endpoint (it changed since the dead letter: the job row is what notify reads)
job, received = insert_job(A["id"], notification={"endPoint": {"url": hook_job.url}}, reference_job="ref-1",
                           campaign_id="camp")
ev1, _ = dead_row(A["id"], url=hook_old.url, job=job, received=received)
eq(redeliver(A, ev1["tag"])[0], 202, "redeliver (job endpoint)")
doc, n = wait_tag(hook_job, ev1["tag"])
eq(doc["meta"], {"version": "1", "jobId": job, "account": A["name"], "customerNo": "4711", "receivedTs": iso(received),
                 "referenceJob": "ref-1", "campaignId": "camp"}, "top-level meta of the job and the account")
eq(n, notification(ev1), "the notification")

# 2. no job endpoint: the account's default, as it is now
job2, rec2 = insert_job(B["id"])
ev2, _ = dead_row(B["id"], url=hook_old.url, job=job2, received=rec2)
eq(redeliver(B, ev2["tag"])[0], 202, "redeliver (account default)")
doc, n = wait_tag(hook_acct, ev2["tag"])
eq((doc["meta"]["account"], n), (B["name"], notification(ev2)), "to the account's default endpoint")

# 3. neither: the URL it was dead-lettered at; the tenant in the meta
job3, rec3 = insert_job(C["id"])
ev3, _ = dead_row(C["id"], url=hook_old.url, job=job3, received=rec3)
eq(redeliver(C, ev3["tag"])[0], 202, "redeliver (no endpoint configured)")
doc, n = wait_tag(hook_old, ev3["tag"])
eq((doc["meta"]["tenant"], n), ("Tenant C", notification(ev3)), "to the dead letter's URL, tenant in the meta")
check(not any(ev1["tag"] in r["body"].decode() or ev2["tag"] in r["body"].decode() for r in hook_old.requests),
      "nothing else went to the old URL")
for acct, ev in ((A, ev1), (B, ev2), (C, ev3)):
    eq(sql("SELECT state FROM webhook_delivery WHERE tag=%s", ev["tag"])[0][0], "redelivered", "marked redelivered")
    error_is(redeliver(acct, ev["tag"]), 404, "NOT_FOUND", "Unknown dead letter", "a second redeliver")
done()
