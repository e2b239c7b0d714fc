"""Redelivery of a dead letter, end to end (contract §11.2): a webhook
receiver that fails until notify gives up (own txmail-notify, max age
3 s), the dead letter listed; the receiver fixed, POST .../redeliver
answers 202 {} and the receiver gets the exact notification under the
same top-level meta, with the job endpoint's Basic authentication and
custom header and a valid signature; the queued envelope is notify's
"webhook" retry envelope, never tried, its password encrypted. The row is
then redelivered (not listed, a second redeliver 404). A redelivered
notification that fails again is dead-lettered again on the same row after
a new full schedule."""
import hashlib
import hmac
from txtest import *
from txevents import *
from txmanage import *

own = instead_of_stack("notify", "-o", "notify_max_age=3s", "-o", "notify_retry_schedule=1s",
                       "-o", "notify_timeout=1s", log_name="notify-325")
time.sleep(0.5)
A = new_account()
AID = A["id"]
fixed = {"ok": False}
hook = WebhookReceiver(status_fn=lambda i: 200 if fixed["ok"] else 503)
COPY = "t_dl_notify"
declare_queue(COPY, "txmail.work", "notify")
drain(COPY, timeout=0.2)

job, received = insert_job(AID, notification={"url": hook.url, "headers": {"X-Custom": "c1"},
                                              "authentication": {"user": "u1", "password": "pw-secret-1"}},
                           reference_job="ref-325", cost_center="cc")
evs = [event(AID, job, rid(job, 0, i), received, "DELIVER", "FINISHED", "DELIVERED", "OK", email="r%d@example.com" % i,
             frm="s@example.com", message_id="<m%d@x>" % i) for i in range(2)]
publish_events(evs)
wait_until(lambda: len(sql("SELECT 1 FROM webhook_delivery WHERE account_id=%s AND state='dead'", AID)) == 2, 30,
           "two dead letters")
orig = json.loads(hook.requests[0]["body"])
items = call(A, "GET", DEAD)[3]["items"]
eq(sorted(i["tag"] for i in items), sorted(e["tag"] for e in evs), "both listed")
check(all(i["lastResult"] == "HTTP 503" and i["attempts"] >= 3 for i in items), "HTTP 503 after several attempts")
seen = len(hook.requests)
time.sleep(1.5)
eq(len(hook.requests), seen, "no attempt after the dead letter")
drain(COPY, timeout=0.2)

# the receiver fixed: redeliver the first
fixed["ok"] = True
e0 = evs[0]
t_re = now_ms()
s, _, body, j = call(A, "POST", DEAD + "/" + e0["tag"] + "/redeliver")
eq((s, j), (202, {}), "redeliver: 202 {}")


def delivered(tag):
    for r in list(hook.requests[seen:]):
        doc = json.loads(r["body"])
        if any(n["meta"]["tag"] == tag for n in doc["notifications"]):
            return r, doc
    return None


req, doc = wait_until(lambda: delivered(e0["tag"]), 20, "the redelivered notification at the receiver")
eq(doc["meta"], orig["meta"], "the same top-level meta notify built")
eq(doc["notifications"], [notification(e0)], "the exact notification")
h = {k.lower(): v for k, v in req["headers"].items()}
eq(h.get("authorization"), "Basic " + base64.b64encode(b"u1:pw-secret-1").decode(), "the endpoint's Basic auth")
eq(h.get("x-custom"), "c1", "the endpoint's custom header")
parts = dict(p.split("=", 1) for p in h["x-txmail-signature"].split(","))
eq(parts["v1"], hmac.new(A["webhook_secret"].encode(), parts["t"].encode() + b"." + req["body"],
                         hashlib.sha256).hexdigest(), "signed with the account's secret")
envs = [parse_envelope(b) for _, b in drain(COPY, timeout=0.5)]
mine = [(e, raw) for e, raw in envs if e["type"] == "webhook" and e["data"]["tags"] == [e0["tag"]]]
eq(len(mine), 1, "one webhook envelope queued for it")
env, raw = mine[0]
eq((env["slip"], env["attempt"], env["account"], env["job"]), (["notify"], 0, AID, job), "envelope header")
d = env["data"]
eq((d["url"], d["headers"], d["auth"]["user"], d["firstAttempt"], d["attempts"], d["rids"], d["jobId"], d["accountId"]),
   (hook.url, {"X-Custom": "c1"}, "u1", 0, 0, [e0["rid"]], job, AID), "envelope data: never tried, the job's endpoint")
check(d["auth"]["password"].startswith("v1:") and b"pw-secret-1" not in raw and b"pw-secret-1" not in
      json.dumps(env).encode(), "the password stays encrypted")
check(env["created"] >= t_re, "a fresh schedule")
eq(json.loads(raw), doc, "the envelope's body is what was posted")
eq(sql("SELECT state FROM webhook_delivery WHERE account_id=%s AND tag=%s", AID, e0["tag"]), (("redelivered",),),
   "the row is marked redelivered")
eq([i["tag"] for i in call(A, "GET", DEAD)[3]["items"]], [evs[1]["tag"]], "only the other one is listed")
error_is(call(A, "POST", DEAD + "/" + e0["tag"] + "/redeliver"), 404, "NOT_FOUND", "Unknown dead letter",
         "redeliver of a redelivered notification")

# the receiver broken again: the second one is redelivered, fails for the whole new schedule, dead again
fixed["ok"] = False
e1 = evs[1]
first_before = sql("SELECT first_attempt_at, attempts FROM webhook_delivery WHERE tag=%s", e1["tag"])[0]
time.sleep(1)
t_re = now_ms()
eq(call(A, "POST", DEAD + "/" + e1["tag"] + "/redeliver")[0], 202, "redeliver the second")
eq(sql("SELECT state FROM webhook_delivery WHERE tag=%s", e1["tag"])[0][0], "redelivered", "marked redelivered")
row = wait_until(lambda: (lambda r: r if r and r[0][0] == "dead" else None)(
    sql("SELECT state, first_attempt_at, last_attempt_at, attempts, last_result FROM webhook_delivery "
        "WHERE account_id=%s AND tag=%s", AID, e1["tag"])), 30, "dead-lettered again")[0]
check(ms_of(row[1]) >= t_re - 50 and ms_of(row[1]) > ms_of(first_before[0]), "a new first attempt after the redelivery")
check((ms_of(row[2]) - ms_of(row[1])) >= 3000, "failed for the whole new maximum age")
eq(row[4], "HTTP 503", "its last result")
eq(sql("SELECT COUNT(*) FROM webhook_delivery WHERE account_id=%s AND tag=%s", AID, e1["tag"])[0][0], 1,
   "the same row (account, tag)")
eq([i["tag"] for i in call(A, "GET", DEAD)[3]["items"]], [e1["tag"]], "listed again")
check(own.alive(), "notify survived")
done()
