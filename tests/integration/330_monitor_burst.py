"""txmail-monitor and GET /email/v2/stats: a burst of 10,000 events and
intake records of three accounts (every counted type, drops of several
subTypes, tracking events that carry no account, events packed in arrays),
their timestamps spread over the last 45 minutes -> each account's totals
and series (windows 1h, 6h, 24h) equal what was published, bucketed by the
event's ts; once the recorder has written them, they equal the event and
message tables too (accepted = message rows, inProgress = messages without
a final event)."""
import json
import random

from txtest import *
from txevents import *
from txstats import *

rnd = random.Random(330)
accts = [new_account() for _ in range(3)]
T = now_ms()
DROPS = [("PRE_PROCESS", "PREVIOUSLY_BOUNCED"), ("PRE_PROCESS", "INVALID_ADDRESS"),
         ("PRE_PROCESS", "FORBIDDEN_RECIPIENT"), ("PRE_PROCESS", "SUPPRESSED"),
         ("PROCESS", "VIRUS_DETECTED"), ("PROCESS", "PROCESSING_FAILED")]


def life(a, job, r, recv, email, tracking_without_account):
    """The events of one recipient and whether it ends in a final state."""
    m = dict(email=email, frm="s@example.com")
    t = [recv + 1000]

    def ev(phase, state, typ, sub, key="1", post=False):
        t[0] += rnd.randint(100, 4000)
        if post and tracking_without_account:
            # as txmail-track publishes it: no account, no mail data
            e = event(0, job, r, 0, phase, state, typ, sub, ts=t[0], key=key)
        else:
            e = event(a, job, r, recv, phase, state, typ, sub, ts=t[0], key=key, **m)
        return e

    x = rnd.random()
    if x < 0.10:
        phase, sub = rnd.choice(DROPS)
        return [ev(phase, "FINISHED", "DROPPED", sub)], True
    out = [ev("PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED")]
    if x < 0.25:     # still in its retry period
        out.append(ev("DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE"))
        return out, False
    if x < 0.33:
        out.append(ev("DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE"))
        return out, True
    if x < 0.37:
        out.append(ev("DELIVER", "INTERMEDIATE", "DEFERRED", "THROTTLED"))
        out.append(ev("DELIVER", "FINISHED", "BOUNCED", "SOFT_BOUNCE"))
        return out, True
    if x < 0.47:
        out.append(ev("DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", key="1"))
        out.append(ev("DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", key="2"))
    out.append(ev("DELIVER", "FINISHED", "DELIVERED", "OK"))
    y = rnd.random()
    if y < 0.5:
        k = iso(t[0] + 500)
        out.append(ev("POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", key=k, post=True))
        if y < 0.2:
            out.append(ev("POST_PROCESS", "POST_DELIVERY", "CLICKED", "OK", key=iso(t[0] + 700), post=True))
    elif y < 0.6:
        out.append(ev("POST_PROCESS", "POST_DELIVERY", "UNSUBSCRIBED", "OK", post=True))
    elif y < 0.65:
        out.append(ev("POST_PROCESS", "POST_DELIVERY", "FEEDBACK_LOOP", "COMPLAINT"))
    return out, True


tallies, intakes, events, open_left = {}, [], [], {}
for i, acct in enumerate(accts):
    A = acct["id"]
    tallies[A], open_left[A] = Tally(), 0
    for j in range(60):
        job = new_job_id()
        recv = T - rnd.randint(60, 45 * 60) * 1000
        if i == 0:
            insert_job(A, job, recv, recipients=21)   # the tracking events' account comes from here
        rcpts = [recipient(job, 0, k, "r%d-%d@example.com" % (j, k)) for k in range(21)]
        intakes.append(intake(A, job, recv, rcpts))
        tallies[A].intake(recv, len(rcpts))
        for k, rc in enumerate(rcpts):
            evs, final = life(A, job, rc["rid"], recv, rc["email"], i == 0)
            events.extend(evs)
            open_left[A] += 0 if final else 1
            for e in evs:
                tallies[A].event(e)
log("published: %d intake records, %d events" % (len(intakes), len(events)))
check(len(intakes) + len(events) >= 10000, "a burst of at least 10,000 (%d)" % (len(intakes) + len(events)))

# intake records first (the recorder creates the message rows from them),
# then the events: PROCESSING_STARTED packed in arrays of 50 per broker
# message (as the workers publish them), the rest one by one, shuffled
p = Publisher()
try:
    for rec in intakes:
        p.event(rec)
    started = [e for e in events if e["type"] == "STARTED"]
    rest_evs = [e for e in events if e["type"] != "STARTED"]
    rnd.shuffle(rest_evs)
    for n in range(0, len(started), 50):
        p.raw("txmail.events", "STARTED.PROCESSING_STARTED",
              json.dumps(started[n:n + 50], separators=(",", ":")))
    for e in rest_evs:
        p.event(e)
finally:
    p.close()


def all_counted():
    for acct in accts:
        st, j = stats(acct, "1h")
        if st != 200 or not answer_matches(j, tallies[acct["id"]]):
            return False
    return True


wait_until(all_counted, 120, "every account's counters equal what was published", interval=1)
for acct in accts:
    for w in ("1h", "6h", "24h"):
        check_answer(acct, w, tallies[acct["id"]])

# the database's view, once the recorder has written everything
ids = [a["id"] for a in accts]
wait_until(lambda: sql("SELECT COUNT(*) FROM event WHERE account_id IN (%s,%s,%s)" % tuple(ids))[0][0] == len(events),
           120, "the recorder wrote every event", interval=1)
wait_until(lambda: sql("SELECT COUNT(*) FROM message WHERE account_id IN (%s,%s,%s) AND last_type IS NULL"
                       % tuple(ids))[0][0] == 0, 60, "every message has its state")
for acct in accts:
    A = acct["id"]
    st, j = stats(acct, "24h")
    frm, to = ms_of_iso(j["from"]), ms_of_iso(j["to"])
    rows = sql("SELECT type, subtype, COUNT(*) FROM event WHERE account_id=%s AND ts >= %s AND ts < %s "
               "GROUP BY type, subtype", A, sqltime(frm), sqltime(to))
    db = Tally()
    for typ, sub, n in rows:
        c = counter_of(typ, sub)
        if c:
            db.items.append((c, frm, n))
    db.intake(frm, sql("SELECT COUNT(*) FROM message WHERE account_id=%s AND received_at >= %s", A, sqltime(frm))[0][0])
    got = dict(j["totals"])
    ip = got.pop("inProgress")
    eq(got, db.totals(frm, to), "account %d: totals equal the event and message tables" % A)
    eq(ip, sql("SELECT COUNT(*) FROM message WHERE account_id=%s AND final_at IS NULL", A)[0][0],
       "account %d: inProgress equals the messages without a final event" % A)
    eq(ip, open_left[A], "account %d: inProgress = the addresses still deferred (%d)" % (A, open_left[A]))
done()
