"""GET /email/v2/stats inProgress: the caller's addresses without a final
event now (accepted within 45 days), whatever the window: deferred and
started addresses count, delivered, bounced and dropped ones do not, nor
do another account's, nor an address accepted 50 days ago; it falls when
the final events come. The query is served by the index
message_account_final without reading rows."""
from txtest import *
from txevents import *
from txstats import *

A, B = new_account(), new_account()
now = now_ms()
m = dict(email="p@example.com", frm="s@example.com")


def job_of(acct, n, recv):
    job = new_job_id()
    rcpts = [recipient(job, 0, k, "p%d@example.com" % k) for k in range(n)]
    return job, rcpts, intake(acct["id"], job, recv, rcpts)


recv = now - 600000
ja, ra, ia = job_of(A, 10, recv)
jb, rb, ib = job_of(B, 4, recv)
jo, ro, io = job_of(A, 3, now - 50 * DAY)        # accepted 50 days ago, never finished
evs = [ia, ib, io]
finals = {0: ("DELIVER", "FINISHED", "DELIVERED", "OK"), 1: ("DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE"),
          2: ("PRE_PROCESS", "FINISHED", "DROPPED", "INVALID_ADDRESS")}
for k, r in enumerate(ra):
    a = A["id"]
    if k in finals:
        evs.append(event(a, ja, r["rid"], recv, *finals[k], ts=recv + 1000, **m))
    elif k < 6:
        evs.append(event(a, ja, r["rid"], recv, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=recv + 1000, **m))
        evs.append(event(a, ja, r["rid"], recv, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=recv + 2000, **m))
    # k >= 6: only accepted
evs.append(event(A["id"], ja, ra[0]["rid"], recv, "POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", ts=recv + 3000,
                 key=iso(recv + 3000), **m))
for r in rb:
    evs.append(event(B["id"], jb, r["rid"], recv, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=recv + 2000, **m))
publish_events(evs)
wait_until(lambda: sql("SELECT COUNT(*) FROM event WHERE account_id IN (%s, %s)", A["id"], B["id"])[0][0] == len(evs) - 3,
           60, "the recorder wrote the events")
wait_until(lambda: sql("SELECT COUNT(*) FROM message WHERE account_id IN (%s, %s)", A["id"], B["id"])[0][0] == 17,
           60, "the recorder wrote the message rows")


def in_progress(acct, w="24h"):
    st, j = stats(acct, w)
    eq(st, 200, "stats %s" % w)
    return j["totals"]["inProgress"]


for w in WINDOWS:
    eq(in_progress(A, w), 7, "window %s: A's deferred, started and only accepted addresses (not 50 days old)" % w)
eq(in_progress(B), 4, "B's own in-progress addresses only")
eq(sql("SELECT COUNT(*) FROM message WHERE account_id=%s AND final_at IS NULL", A["id"])[0][0], 10,
   "the 50-day-old addresses are in the table, without a final event")

# the final events come: inProgress falls
done_evs = [event(A["id"], ja, r["rid"], recv, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=now - 1000, **m) for r in ra[3:8]]
publish_events(done_evs)
wait_until(lambda: in_progress(A) == 2, 30, "inProgress falls to 2 once five addresses are delivered")
eq(in_progress(B), 4, "B unchanged")

# served by the index, without reading rows
plan = sql("EXPLAIN SELECT COUNT(*) FROM message FORCE INDEX (message_account_final) "
           "WHERE account_id = %s AND final_at IS NULL AND rday >= %s", A["id"], str(day(now - 45 * DAY)))
keys = [row[5] for row in plan]
extra = " ".join(str(row[-1]) for row in plan)
check("message_account_final" in keys, "EXPLAIN: key message_account_final (%s)" % keys)
check("Using index" in extra, "EXPLAIN: index only (%s)" % extra)
done()
