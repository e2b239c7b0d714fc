"""txmail-recorder: an intake record creates one message row per recipient;
every event becomes one event row holding its notification element; the
message row follows the delivery state; a replay of everything changes
nothing; malformed input is dead-lettered and the recorder carries on."""
from txtest import *
from txevents import *

acct = new_account()
A = acct["id"]
job = new_job_id()
recv = now_ms() - 5000
r0, r1, r2 = rid(job, 0, 0), rid(job, 0, 1), rid(job, 1, 0)
rec = intake(A, job, recv, [
    recipient(job, 0, 0, "To Zero <Zero@Example.COM>", addr="zero@example.com", reference="order-1"),
    recipient(job, 0, 1, "one@example.com", kind="cc"),
    recipient(job, 1, 0, "bad@example.com", dropped=True),
], mail_from="Sender <sender@example.com>", mime_from="other@example.com", sender_domain_id=7)
publish_events([rec])


def msg_rows():
    return sql("SELECT rid, rday, job_id, account_id, block_index, addr_index, kind, email, addr, "
               "mail_from, mime_from, reference, entry, received_at, provisioning_id "
               "FROM message WHERE job_id=%s ORDER BY rid", job)


rows = wait_until(lambda: (lambda r: r if len(r) == 3 else None)(msg_rows()), 20, "three message rows")
eq([r[0] for r in rows], [r0, r1, r2], "one row per recipient id")
eq(rows[0][1], day(recv), "rday is the UTC day of acceptance")
eq(rows[0][2:13], (job, A, 0, 0, "to", "To Zero <Zero@Example.COM>", "zero@example.com",
                   "Sender <sender@example.com>", "other@example.com", "order-1", "rest"),
   "identity columns of the first recipient")
eq((rows[1][6], rows[1][8]), ("cc", "one@example.com"), "kind and bare address of the cc")
eq((rows[2][4], rows[2][5]), (1, 0), "block and address index")
eq(ms_of(rows[0][13]), recv, "received_at to the millisecond")
eq(rows[0][14], 7, "provisioning_id = sender domain id")

# events of a whole life
mid = "<%s@txmail.test>" % r0
common = dict(email="To Zero <Zero@Example.COM>", frm="Sender <sender@example.com>",
              mime_from="other@example.com", reference="order-1")
t = recv + 1000
evs = [
    event(A, job, r0, recv, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=t, **common),
    event(A, job, r0, recv, "PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED", ts=t + 10,
          message_id=mid, size=4711, **common),
    event(A, job, r0, recv, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=t + 20, key="1",
          description="[4.0.0] deferred (host mx.example.com[127.0.0.1] said: 451 try later)",
          message_id=mid, smtp_code="451", **common),
    event(A, job, r0, recv, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=t + 30, key="2",
          message_id=mid, smtp_code="451", **common),
    event(A, job, r0, recv, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=t + 40,
          description="[2.0.0] delivered (host mx.example.com[127.0.0.1] said: 250 ok)",
          message_id=mid, smtp_code="250", size=4711, rewrite_from="bounce@rw.example.com", **common),
    event(A, job, r0, recv, "POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", ts=t + 50, key=iso(t + 50),
          content={"tracking": {"userAgent": "x", "ip": "127.0.0.0", "ts": iso(t + 50)}},
          message_id=mid, **common),
    event(A, job, r1, recv, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=t,
          email="one@example.com", frm="Sender <sender@example.com>"),
    event(A, job, r1, recv, "DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE", ts=t + 25,
          email="one@example.com", frm="Sender <sender@example.com>", smtp_code="550",
          description="[5.1.1] bounced (host mx[127.0.0.1] said: 550 5.1.1 unknown user)"),
    event(A, job, r2, recv, "PRE_PROCESS", "FINISHED", "DROPPED", "PREVIOUSLY_BOUNCED", ts=recv,
          email="bad@example.com", frm="Sender <sender@example.com>",
          description='ts="2026-01-01T00:00:00.000Z", reason="bounced"'),
]
publish_events(evs)


def ev_rows():
    return sql("SELECT tag, rid, phase, state, type, subtype, ts, event_key, description, notification, "
               "rday, account_id, job_id FROM event WHERE job_id=%s", job)


got = wait_until(lambda: (lambda r: r if len(r) == len(evs) else None)(ev_rows()), 20, "event rows")
by_tag = {r[0]: r for r in got}
eq(sorted(by_tag), sorted(e["tag"] for e in evs), "one event row per tag")
for e in evs:
    r = by_tag[e["tag"]]
    eq(json.loads(r[9]), notification(e), "notification column of %s/%s" % (e["type"], e["subType"]))
    eq((r[1], r[2], r[3], r[4], r[5], r[7], r[10], r[11], r[12]),
       (e["rid"], e["phase"], e["state"], e["type"], e["subType"], e["eventKey"], day(recv), A, job),
       "columns of %s/%s" % (e["type"], e["subType"]))
    eq(ms_of(r[6]), e["ts_ms"], "ts of %s" % e["type"])
n0 = json.loads(by_tag[evs[4]["tag"]][9])
eq(n0["content"]["mime"]["messageId"], mid, "content.mime.messageId kept")
check("x" not in n0 and "smtpCode" not in json.dumps(n0), "no internal members in the notification")


def state_rows():
    return sql("SELECT rid, last_phase, last_state, last_type, last_subtype, last_ts, final_at, size, "
               "smtp_code, deferrals, message_id, rewrite_from FROM message WHERE job_id=%s ORDER BY rid", job)


st = wait_until(lambda: (lambda r: r if r[0][3] == "DELIVERED" and r[1][3] == "BOUNCED" and r[2][3] else None)(state_rows()),
                20, "message states")
eq(st[0][1:5], ("DELIVER", "FINISHED", "DELIVERED", "OK"), "recipient 0: delivered (OPENED does not change it)")
eq((ms_of(st[0][5]), ms_of(st[0][6])), (t + 40, t + 40), "last_ts and final_at = the DELIVERED ts")
eq((st[0][7], st[0][8], st[0][9], st[0][10], st[0][11]), (4711, "250", 2, mid, "bounce@rw.example.com"),
   "size, smtp code, deferrals, Message-ID, rewritten sender")
eq(st[1][3:5] + (st[1][8],), ("BOUNCED", "HARD_BOUNCE", "550"), "recipient 1: bounced")
eq(st[2][1:5], ("PRE_PROCESS", "FINISHED", "DROPPED", "PREVIOUSLY_BOUNCED"), "recipient 2: dropped at intake")

# replay: the same intake record and events again, in reverse order
before_ev = sorted(ev_rows())
before_msg = msg_rows() + state_rows()
publish_events([rec] + list(reversed(evs)) + [rec])
marker_job = new_job_id()
publish_events([intake(A, marker_job, now_ms(), [recipient(marker_job, 0, 0, "m@example.com")])])
wait_until(lambda: sql("SELECT 1 FROM message WHERE job_id=%s", marker_job), 20, "the replay processed")
eq(sorted(ev_rows()), before_ev, "replay: no new event rows, none changed")
eq(msg_rows() + state_rows(), before_msg, "replay: message rows unchanged")

# hostile input: dead-lettered (by the recorder, with its reason), the recorder carries on
drain("dead")
bad = [b"{not json", b'{"v":1,"phase":"DELIVER","state":"FINISHED","type":"DELIVERED","subType":"OK",'
       b'"rid":"not-a-rid","ts":"2026-01-01T00:00:00.000Z"}',
       json.dumps(dict(evs[0], ts="yesterday")).encode(),
       json.dumps(intake(A, "nope", recv, [])).encode()]
p = Publisher()
for b in bad:
    p.raw("txmail.events", "DELIVERED.OK", b)
p.close()
dead = []
end = time.time() + 20
while time.time() < end and len([1 for pr, b in dead if (pr.headers or {}).get("x-txmail-dead-reason", "").startswith("recorder: ")]) < len(bad):
    dead += drain("dead", timeout=0.3)
mine = sorted(b for pr, b in dead if (pr.headers or {}).get("x-txmail-dead-reason", "").startswith("recorder: "))
eq(mine, sorted(bad), "every malformed delivery dead-lettered by the recorder with its reason")
# a non-catalogue event (another program's test event) is not ours: ignored, not dead-lettered
p = Publisher()
p.event({"v": 1, "rid": "x", "phase": "TEST", "state": "FINISHED", "type": "REJECTED", "subType": "TEST",
         "ts": iso(now_ms())})
p.close()
marker2 = new_job_id()
publish_events([intake(A, marker2, now_ms(), [recipient(marker2, 0, 0, "m2@example.com")])])
wait_until(lambda: sql("SELECT 1 FROM message WHERE job_id=%s", marker2), 20, "the recorder carried on")
time.sleep(0.3)
late = [b for pr, b in drain("dead", timeout=0.3) if (pr.headers or {}).get("x-txmail-dead-reason", "").startswith("recorder: ")]
eq(late, [], "foreign test events are ignored, not dead-lettered")
done()
