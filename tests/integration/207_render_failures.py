"""txmail-render failure paths. A block whose built message exceeds the size
limit -> PROCESS/FINISHED/DROPPED/PROCESSING_FAILED for that block's
addresses only (the other block is sent); likewise a template rendering
error in one block. An attachment flagged secureDocument that no
stage encrypted, invalid attachment base64, an unknown charset: failed
with the reason, never sent. Envelopes that are not render jobs are
dead-lettered; the worker keeps running."""
from txtest import *
from rendertest import *

Q = "t_render_fail"
declare_queue(Q, "txmail.work", Q)
DEAD = "t_render_dead"
declare_queue(DEAD, "txmail.dead", "")
drain(DEAD, timeout=0.2)
cap = Capture("fail")
w = Program("txmail-render", "-o", "render_queue=" + Q, "-o", "render_message_size_limit=100k", log_name="render-fail")
time.sleep(1.0)
acct = account_with_domain(publish=False)
FROM = {"from": {"email": "Shop <shop@%s>" % acct["domain"]}}


def failed_events(job, n):
    evs = cap.wait_events(job, lambda e: len([x for x in e if x.get("subType") == "PROCESSING_FAILED"]) >= n,
                          what="%d PROCESSING_FAILED" % n)
    return sorted([e for e in evs if e.get("subType") == "PROCESSING_FAILED"], key=lambda e: e["rid"])


# size: block 0 carries 10 long xHeaders and goes over 100 KiB, block 1 does not
job = new_job()
big = {"X-H%d" % i: "v" * 998 for i in range(10)}
r = {"subject": {"content": "size"}, "body": {"contentType": "text/html", "content": "<p>" + "y" * 95000 + "</p>"},
     "mail": FROM,
     "recipients": [{"mail": {"to": [{"email": "a@example.org"}], "cc": [{"email": "b@example.org"}], "xHeaders": big}},
                    {"mail": {"to": [{"email": "c@example.org"}]}}]}
submit(acct, job, rest_data(acct, r, job), stage=Q)
fails = failed_events(job, 2)
eq([e["rid"] for e in fails], [rid(job, 0, 0), rid(job, 0, 1)], "the oversized block's addresses fail")
for e in fails:
    eq((e["phase"], e["state"], e["type"]), ("PROCESS", "FINISHED", "DROPPED"), "PROCESS/FINISHED/DROPPED")
    eq(e["description"], "message exceeds 102400 bytes", "the reason")
    eq(e["tag"], tag(e["rid"], "PROCESS", "FINISHED", "DROPPED", "PROCESSING_FAILED"), "tag")
msgs = cap.wait_messages(job, 1)
eq([e["rid"] for e, _ in msgs], [rid(job, 1, 2)], "the other block is sent")
check(len(msgs[0][1]) <= 102400, "within the limit")
time.sleep(0.5)
eq(len(cap.messages(job)), 1, "nothing of the oversized block forwarded")

# templates: a rendering error drops that block only, with the §9.5 description (issue 7's engine)
job = new_job()
r = {"subject": {"template": "Hello ${name}"}, "body": {"contentType": "text/html", "content": "<p>x</p>"},
     "mail": FROM,
     "recipients": [{"mail": {"to": [{"email": "t0@example.org"}]},
                     "features": {"templating": {"personalization": {"other": "x"}}}},
                    {"mail": {"to": [{"email": "t1@example.org"}]},
                     "features": {"templating": {"personalization": {"name": "N1"}}}}]}
submit(acct, job, rest_data(acct, r, job), stage=Q)
fails = failed_events(job, 1)
eq([e["rid"] for e in fails], [rid(job, 0, 0)], "the block without the variable fails")
check(fails[0]["description"].startswith("Missing template variable name in subject.template at line 1 column"),
      "named as contract §9.5 says: %s" % fails[0]["description"])
env, raw = cap.wait_messages(job, 1)[0]
eq((env["rid"], str(parse(raw)["Subject"])), (rid(job, 1, 1), "Hello N1"), "the other block is rendered")

# an attachment flagged for Secure Document Handling that nobody encrypted
job = new_job()
r = {"subject": {"content": "sd"}, "mail": FROM, "recipients": [{"mail": {"to": [{"email": "s@example.org"}]}}],
     "attachments": [{"name": "secret.pdf", "contentType": "application/pdf", "content": "bmFtZQ==",
                      "secureDocument": True}]}
submit(acct, job, rest_data(acct, r, job), stage=Q)
fails = failed_events(job, 1)
eq(fails[0]["description"], "attachment secret.pdf is flagged secureDocument but was not encrypted",
   "a flagged attachment is never sent unencrypted")

# invalid base64 in an attachment; an unknown subject charset
job = new_job()
r = {"subject": {"content": "b64"}, "mail": FROM, "recipients": [{"mail": {"to": [{"email": "x@example.org"}]}}],
     "attachments": [{"name": "a.bin", "contentType": "application/octet-stream", "content": "!!!notbase64"}]}
submit(acct, job, rest_data(acct, r, job), stage=Q)
eq(failed_events(job, 1)[0]["description"], "attachment a.bin: content is not valid base64", "bad base64")
job = new_job()
r = {"subject": {"content": "\u00e4", "charset": "X-NO-SUCH"}, "mail": FROM,
     "recipients": [{"mail": {"to": [{"email": "x@example.org"}]}}]}
submit(acct, job, rest_data(acct, r, job), stage=Q)
check("X-NO-SUCH" in failed_events(job, 1)[0]["description"], "unknown charset named")

# not a render job: dead letters, no events, the worker carries on
publish("txmail.work", Q, b"this is not an envelope")
job = new_job()
publish("txmail.work", Q, envelope_bytes(job, [Q], {"entry": "rest"}, acct["id"]))
dead = wait_until(lambda: (lambda d: d if len(d) >= 2 else None)(drain(DEAD)), 15, "two dead letters")
reasons = [p.headers.get("x-txmail-dead-reason", "") for p, _ in dead]
check(any("render" in r for r in reasons), "dead letters name the reason: %r" % reasons)
eq(cap.job_events(job), [], "a malformed job has no events")
eq(w.alive(), True, "the worker is still running")

# and it still renders
job = new_job()
r = {"subject": {"content": "after"}, "mail": FROM, "recipients": [{"mail": {"to": [{"email": "ok@example.org"}]}}]}
submit(acct, job, rest_data(acct, r, job), stage=Q)
cap.wait_messages(job, 1)
w.stop()
cap.delete()
done()
