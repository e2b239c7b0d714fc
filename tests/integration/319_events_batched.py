"""Several events in one broker message (a JSON array, docs/ENVELOPES.md):
txmail-recorder writes every event of it and txmail-notify posts every
notification of it, exactly once; a malformed element is dead-lettered
alone; an element held back (an orphan waiting for its message row) does
not hold back the later messages, and is recorded once its row exists;
every message ends acked. (Which broker acks are sent when is unit-tested
in lib/global/runtime/tagmap_test.c: the broker's unacked figures lag too much to
observe it here.)"""
from txtest import *
from txevents import *

hook = WebhookReceiver()
acct = new_account()
A = acct["id"]


def unacked(queue):
    out = stack("rabbitmqctl", "-q", "list_queues", "name", "messages_unacknowledged")
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == queue:
            return int(f[1])
    fail("queue %s not listed: %r" % (queue, out))


def ev_tags(job):
    return sorted(r[0] for r in sql("SELECT tag FROM event WHERE job_id=%s", job))


def posted(job):
    tags = []
    for req in list(hook.requests):
        d = json.loads(req["body"])
        if d["meta"]["jobId"] == job:
            tags += [n["meta"]["tag"] for n in d["notifications"]]
    return tags


def delivered(job, received, r, i):
    return event(A, job, r, received, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=received + 100 + i,
                 email="r%d@example.com" % i, frm="s@example.com", smtp_code="250")


# ---- one message, three events and a malformed element
job, received = insert_job(A, notification={"url": hook.url}, recipients=3)
rids = [rid(job, 0, i) for i in range(3)]
publish_events([intake(A, job, received, [recipient(job, 0, i, "r%d@example.com" % i) for i in range(3)])])
wait_until(lambda: len(sql("SELECT 1 FROM message WHERE job_id=%s", job)) == 3, 20, "message rows")
evs = [delivered(job, received, r, i) for i, r in enumerate(rids)]
bad = {"v": 1, "phase": "DELIVER", "state": "FINISHED", "type": "DELIVERED", "subType": "OK",
       "rid": "not-a-rid", "ts": "2026-01-01T00:00:00.000Z", "job": job}
drain("dead")
p = Publisher()
p.raw("txmail.events", "DELIVERED.OK", json.dumps([evs[0], bad, evs[1], evs[2]], separators=(",", ":")))
p.close()
want = sorted(e["tag"] for e in evs)
wait_until(lambda: ev_tags(job) == want, 20, "the three events recorded")
eq([r[0] for r in sql("SELECT last_type FROM message WHERE job_id=%s ORDER BY rid", job)],
   ["DELIVERED"] * 3, "each message row follows its own element")
wait_until(lambda: len(posted(job)) >= 3, 20, "the three notifications posted")
dead = []
wait_until(lambda: dead.extend(drain("dead", timeout=0.3)) or
           any((pr.headers or {}).get("x-txmail-dead-reason", "").startswith("recorder: ") for pr, _ in dead),
           20, "the malformed element dead-lettered")
mine = [json.loads(b) for pr, b in dead if (pr.headers or {}).get("x-txmail-dead-reason", "").startswith("recorder: ")]
eq(mine, [bad], "exactly the malformed element is dead-lettered, alone")
time.sleep(1.5)
eq(sorted(posted(job)), want, "every notification posted once")
eq(ev_tags(job), want, "every event recorded once")
# (the broker's queue figures lag by up to its 5 s statistics tick)
wait_until(lambda: unacked("events.recorder") == 0, 30, "the recorder acked the message")
wait_until(lambda: unacked("events.notify") == 0, 30, "notify acked the message")

# ---- an element in hand holds its own message, not the ones behind it
job2, received2 = insert_job(A, notification={"url": hook.url}, recipients=2)
ra, rb = rid(job2, 0, 0), rid(job2, 0, 1)
publish_events([intake(A, job2, received2, [recipient(job2, 0, 0, "r0@example.com")])])
wait_until(lambda: sql("SELECT 1 FROM message WHERE rid=%s", ra), 20, "first message row")
ea, eb = delivered(job2, received2, ra, 0), delivered(job2, received2, rb, 1)
eb["account"] = 0               # completed from its row, like a tracking event: held until it exists
job3, received3 = insert_job(A, recipients=1)
publish_events([intake(A, job3, received3, [recipient(job3, 0, 0, "r9@example.com")])])
wait_until(lambda: sql("SELECT 1 FROM message WHERE job_id=%s", job3), 20, "third job's row")
e3 = delivered(job3, received3, rid(job3), 9)
p = Publisher()
p.raw("txmail.events", "DELIVERED.OK", json.dumps([eb, ea], separators=(",", ":")))  # eb: no row yet
p.event(e3)
p.close()
wait_until(lambda: ev_tags(job2) == [ea["tag"]] and ev_tags(job3) == [e3["tag"]], 20,
           "the element with a row and the later message recorded")
# the orphan's row appears: the element is recorded and its message acked
publish_events([intake(A, job2, received2, [recipient(job2, 0, 1, "r1@example.com")])])
wait_until(lambda: ev_tags(job2) == sorted([ea["tag"], eb["tag"]]), 20, "the held element recorded")
wait_until(lambda: unacked("events.recorder") == 0, 30, "every message acked")
done()
