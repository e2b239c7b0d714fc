"""txmail-recorder: events out of order never move a message back from a
final state; events before the intake record lose nothing (the row is
created from the event, the intake record completes it); events that
carry only the recipient id (tracking) are completed from the message row,
and one without any row is held, then dead-lettered."""
from txtest import *
from txevents import *

acct = new_account()
A = acct["id"]
job = new_job_id()
recv = now_ms() - 60000
ra, rb = rid(job, 0, 0), rid(job, 0, 1)
mail = dict(email="a@example.com", frm="sender@example.com")


def state(r):
    rows = sql("SELECT last_phase, last_state, last_type, last_subtype, last_ts, final_at, deferrals, "
               "smtp_code, email, kind, entry, mail_from FROM message WHERE rid=%s", r)
    return rows[0] if rows else None


# DELIVERED arrives before STARTED and before the intake record
t = recv + 1000
delivered = event(A, job, ra, recv, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=t + 30, smtp_code="250", **mail)
publish_events([delivered])
s = wait_until(lambda: state(ra), 20, "message row created by the first event")
eq(s[0:4], ("DELIVER", "FINISHED", "DELIVERED", "OK"), "state from the event before the intake record")
eq((s[8], s[10]), ("a@example.com", ""), "identity from the event; entry unknown yet")
publish_events([event(A, job, ra, recv, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=t, **mail),
                event(A, job, ra, recv, "PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED", ts=t + 10, **mail),
                event(A, job, ra, recv, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=t + 40, key="1",
                      smtp_code="451", **mail)])
publish_events([intake(A, job, recv, [recipient(job, 0, 0, "A <a@example.com>", kind="cc"),
                                      recipient(job, 0, 1, "b@example.com")], entry="smtp",
                       mail_from="sender@example.com")])
wait_until(lambda: (lambda s: s and s[10] == "smtp")(state(ra)), 20, "the intake record completed the row")
wait_until(lambda: len(sql("SELECT 1 FROM event WHERE rid=%s", ra)) == 4, 20, "four event rows")
s = state(ra)
eq(s[0:4], ("DELIVER", "FINISHED", "DELIVERED", "OK"), "still DELIVERED after older and later non-final events")
eq((ms_of(s[4]), ms_of(s[5])), (t + 30, t + 30), "last_ts and final_at of the DELIVERED event")
eq((s[6], s[7]), (1, "250"), "the late deferral is counted, the smtp code stays 250")
eq((s[8], s[9], s[10]), ("A <a@example.com>", "cc", "smtp"), "identity columns from the intake record")

# a second final event later (a bug upstream) never replaces the first;
# an earlier final one arriving late does (the earliest final wins)
publish_events([event(A, job, rb, recv, "DELIVER", "FINISHED", "BOUNCED", "SOFT_BOUNCE", ts=t + 500, **mail)])
wait_until(lambda: (lambda s: s and s[2] == "BOUNCED")(state(rb)), 20, "b bounced")
publish_events([event(A, job, rb, recv, "PROCESS", "FINISHED", "DROPPED", "PROCESSING_FAILED", ts=t + 100, **mail),
                event(A, job, rb, recv, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=t + 900, **mail)])
wait_until(lambda: len(sql("SELECT 1 FROM event WHERE rid=%s", rb)) == 3, 20, "three events of b")
s = state(rb)
eq(s[0:4], ("PROCESS", "FINISHED", "DROPPED", "PROCESSING_FAILED"), "the earliest final state wins")
eq(ms_of(s[5]), t + 100, "final_at of the earliest final event")

# tracking events carry rid/job only: completed from the message row
opened = {"v": 1, "rid": ra, "job": job, "phase": "POST_PROCESS", "state": "POST_DELIVERY", "type": "OPENED",
          "subType": "OK", "ts": iso(t + 5000), "eventKey": iso(t + 5000),
          "tag": tag(ra, "POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", iso(t + 5000)),
          "content": {"tracking": {"ip": "127.0.0.0", "userAgent": "ua", "ts": iso(t + 5000), "automated": False}}}
publish_events([opened])
row = wait_until(lambda: sql("SELECT account_id, rday, notification FROM event WHERE tag=%s", opened["tag"]), 20,
                 "the tracking event recorded")
eq((row[0][0], row[0][1]), (A, day(recv)), "account and rday from the message row")
n = json.loads(row[0][2])
eq(n["meta"]["mail"], {"id": ra, "email": "A <a@example.com>", "from": "sender@example.com"},
   "meta.mail completed from the message row")
eq(n["content"]["tracking"]["userAgent"], "ua", "content kept")
eq(state(ra)[2], "DELIVERED", "a POST_PROCESS event leaves the delivery state alone")

# an event for a recipient id without any row and without account: held, then dead-lettered
drain("dead")
ghost_job = new_job_id()
ghost = {"v": 1, "rid": rid(ghost_job, 0, 0), "phase": "POST_PROCESS", "state": "POST_DELIVERY",
         "type": "CLICKED", "subType": "OK", "ts": iso(now_ms()), "eventKey": iso(now_ms())}
publish_events([ghost])
time.sleep(2)
eq(sql("SELECT 1 FROM event WHERE rid=%s", ghost["rid"]), (), "no row for the orphan event")
# its message row appears while it is held: it is recorded then
ghost2_job = new_job_id()
ghost2 = dict(ghost, rid=rid(ghost2_job, 0, 0))
publish_events([ghost2])
time.sleep(1.5)
publish_events([intake(A, ghost2_job, recv, [recipient(ghost2_job, 0, 0, "late@example.com")])])
wait_until(lambda: sql("SELECT account_id FROM event WHERE rid=%s", ghost2["rid"]), 20,
           "the held event recorded once its row exists")
dead = wait_until(lambda: [b for p, b in drain("dead", timeout=0.3)
                           if (p.headers or {}).get("x-txmail-dead-reason", "").startswith("recorder: ")],
                  40, "the orphan dead-lettered after recorder_orphan_wait")
eq([json.loads(b)["rid"] for b in dead], [ghost["rid"]], "only the orphan without a row is dead-lettered")
check("no message row" in open(E["TXMAIL_STACK_DIR"] + "/log/recorder-1.log").read(), "the reason is logged")
done()
