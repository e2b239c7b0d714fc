"""txmail-notify: a DELIVERED event reaches the job's endpoint in the exact
shape of contract §11.4 (top-level meta, flat notifications array, tag,
content.mime.messageId), with the headers of §11.1 in their precedence
(Content-Type, User-Agent, X-Txmail-Signature verifying with the account's
webhook secret over t "." body, Basic authentication, custom headers that
do not collide) - and nothing for the intake record."""
import base64
import hashlib
import hmac
from txtest import *
from txevents import *

recv_hook = WebhookReceiver()
acct = new_account()
A = acct["id"]
sql("UPDATE account SET tenant='Test Tenant' WHERE id=%s", A)
endpoint = {"url": recv_hook.url + "?job=1",
            "headers": {"X-Custom": "custom value", "Authorization": "Bearer must-not-win",
                        "Content-Type": "text/plain", "X-Txmail-Signature": "forged"},
            "authentication": {"method": "BASIC", "user": "hookuser", "password": "hook pw:ü"}}
job, received = insert_job(A, notification=endpoint, reference_job="job-4711", cost_center="cost-center",
                           campaign_id="campaign-id")
r = rid(job)
mid = "<%s@mail.example.com>" % r
ev = event(A, job, r, received, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=received + 2303,
           description="[2.0.0] delivered (host mx.example.com[192.0.2.10] said: 250 2.0.0 Ok: queued as 4Xk2)",
           email="ToName <to@example.com>", frm="FromName <from@example.com>", mime_from="from@example.com",
           reference="order-4711", message_id=mid, smtp_code="250", size=48213,
           x={"suppressTouch": {"address": "to@example.com"}})
publish_events([intake(A, job, received, [recipient(job, 0, 0, "ToName <to@example.com>")]), ev])
t_pub = time.time()
got = wait_until(lambda: recv_hook.requests, 15, "the POST")
time.sleep(1.5)
eq(len(recv_hook.requests), 1, "one POST (the intake record is not a notification)")
req = recv_hook.requests[0]
check(req["ts"] - t_pub < 3.0, "posted within the 1 s batch wait (%.2fs)" % (req["ts"] - t_pub))
eq(req["path"], "/hook?job=1", "posted to the job's endpoint URL")
h = {k.lower(): v for k, v in req["headers"].items()}
eq(h.get("content-type"), "application/json", "Content-Type is ours")
check(h.get("user-agent", "").startswith("txmail/"), "User-Agent txmail/<version>: %r" % h.get("user-agent"))
eq(h.get("authorization"), "Basic " + base64.b64encode("hookuser:hook pw:ü".encode()).decode(),
   "Basic authentication wins over a custom Authorization header")
eq(h.get("x-custom"), "custom value", "custom header passed")
sig = h.get("x-txmail-signature", "")
parts = [p.split("=", 1) for p in sig.split(",")]
eq([p[0] for p in parts], ["t", "v1"], "signature has t and one v1 (no rotation)")
t = int(parts[0][1])
check(abs(t - time.time()) < 60, "t is the time of the attempt")
want = hmac.new(acct["webhook_secret"].encode(), str(t).encode() + b"." + req["body"], hashlib.sha256).hexdigest()
eq(parts[1][1], want, "v1 = HMAC-SHA256(webhook secret, t.body)")

doc = json.loads(req["body"])
eq(list(doc.keys()), ["meta", "notifications"], "top-level keys")
eq(doc["meta"], {"version": "1", "jobId": job, "account": acct["name"], "customerNo": "4711",
                 "tenant": "Test Tenant", "receivedTs": iso(received), "referenceJob": "job-4711",
                 "costCenter": "cost-center", "campaignId": "campaign-id"}, "top-level meta")
eq(doc["notifications"], [notification(ev)], "notifications: one flat element, exactly the event's")
n = doc["notifications"][0]
eq(n["meta"]["tag"], tag(r, "DELIVER", "FINISHED", "DELIVERED", "OK", "1"), "meta.tag per §11.5")
eq(n["meta"]["mail"], {"id": r, "email": "ToName <to@example.com>", "from": "FromName <from@example.com>",
                       "mimeFrom": "from@example.com", "reference": "order-4711"}, "meta.mail")
eq(n["meta"]["event"], {"phase": "DELIVER", "state": "FINISHED", "type": "DELIVERED", "subType": "OK",
                        "ts": iso(received + 2303),
                        "description": "[2.0.0] delivered (host mx.example.com[192.0.2.10] said: 250 2.0.0 Ok: queued as 4Xk2)"},
   "meta.event")
eq(n["content"], {"mime": {"messageId": mid}}, "content.mime.messageId, nothing internal")
check(b'"x"' not in req["body"] and b"suppressTouch" not in req["body"] and b"smtpCode" not in req["body"],
      "no internal members in the body")
logt = open(E["TXMAIL_STACK_DIR"] + "/log/notify-1.log").read()
check("%s: tag=%s" % (r, ev["tag"][:16]) in logt and "status=sent" in logt, "one log line keyed by recipient id")
check("hook pw" not in logt and "hookuser" not in logt, "credentials never logged")
done()
