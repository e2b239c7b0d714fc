"""txmail-notify never posts a webhook unsigned: when the account's stored
webhook secret cannot be decrypted (here: a damaged ciphertext in the
account row) the endpoint gets no request at all; the attempt is logged
("cannot sign: the webhook secret cannot be decrypted; not posted
unsigned"), retried, and dead-lettered after notify_max_age with that
reason. The same for an endpoint password that cannot be decrypted (never
posted without it). An account whose secret is readable gets its signed
POST. Runs its own txmail-notify (max age 3 s)."""
import hashlib
import hmac
from txtest import *
from txevents import *

own = instead_of_stack("notify", "-o", "notify_max_age=3s", "-o", "notify_retry_schedule=1s",
                       "-o", "notify_timeout=2s", log_name="notify-322")

hook = WebhookReceiver()
good, bad = new_account(), new_account()
stored = sql("SELECT webhook_secret FROM account WHERE id=%s", bad["id"])[0][0]
stored = stored.decode() if isinstance(stored, bytes) else stored
check(stored.startswith("v1:"), "secrets are stored encrypted")
# one base64 character of the ciphertext changed: the GCM tag no longer matches
i = len(stored) - 6
damaged = stored[:i] + ("A" if stored[i] != "A" else "B") + stored[i + 1:]
sql("UPDATE account SET webhook_secret=%s WHERE id=%s", damaged, bad["id"])
cases = []
for acct, url, auth in ((good, hook.url + "/good", None), (bad, hook.url + "/bad", None),
                        (good, hook.url + "/badpw", "damaged")):
    n = {"url": url}
    if auth:
        n["authentication"] = {"method": "BASIC", "user": "u", "password": "pw"}
    job, received = insert_job(acct["id"], notification=n)
    if auth:
        doc = json.loads(sql("SELECT notification FROM job WHERE job_id=%s", job)[0][0])
        pw = doc["authentication"]["password"]
        doc["authentication"]["password"] = pw[:-6] + ("A" if pw[-6] != "A" else "B") + pw[-5:]
        sql("UPDATE job SET notification=%s WHERE job_id=%s", json.dumps(doc), job)
    ev = event(acct["id"], job, rid(job), received, "DELIVER", "FINISHED", "DELIVERED", "OK",
               email="r@example.com", frm="s@example.com")
    cases.append((acct, url, job, ev))
publish_events([c[3] for c in cases])

wait_until(lambda: any(r["path"] == "/hook/good" for r in hook.requests), 20, "the readable account's POST")
r = [r for r in hook.requests if r["path"] == "/hook/good"][0]
sig = r["headers"].get("X-Txmail-Signature", "")
t = sig.split(",")[0][2:]
want = hmac.new(good["webhook_secret"].encode(), (t + ".").encode() + r["body"], hashlib.sha256).hexdigest()
eq(sig, "t=%s,v1=%s" % (t, want), "signed with the account's secret")
for acct, url, job, ev in cases[1:]:
    row = wait_until(lambda: sql("SELECT state, last_result, attempts FROM webhook_delivery WHERE tag=%s",
                                 ev["tag"]), 30, "dead letter for %s" % url)
    eq(row[0][0], "dead", "state of %s" % url)
    check(row[0][1].startswith("cannot sign: "), "%s: last_result %r" % (url, row[0][1]))
    check(row[0][2] >= 2, "%s retried (%d attempts)" % (url, row[0][2]))
eq(sorted(r["path"] for r in hook.requests), ["/hook/good"], "nothing posted unsigned or without its password")
text = own.log_text()
check("cannot sign: the webhook secret cannot be decrypted; not posted unsigned" in text, "logged")
check("cannot sign: the endpoint password cannot be decrypted" in text, "logged (password)")
check(own.alive(), "notify survived")
done()
