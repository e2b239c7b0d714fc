"""GET /email/v2/stats serves only the caller's account: two accounts'
events interleaved, each sees its own counts and never the other's; a
tracking event without account counts for the account of its job's
acceptance record, and for nobody when the job is unknown. A republished
event (same tag) and a republished intake record are counted once;
malformed deliveries count nothing and do not stop the monitor."""
import glob
import re

from txtest import *
from txevents import *
from txstats import *

X, Y = new_account(), new_account()
tx, ty = Tally(), Tally()
now = now_ms()
m = dict(email="t@example.com", frm="s@example.com")


def one(acct, tally, typ, sub, phase="DELIVER", state="FINISHED", ts=None, job=None, account=None):
    job = job or new_job_id()
    e = event(acct["id"] if account is None else account, job, rid(job), now - 120000, phase, state, typ, sub,
              ts=ts or now - rnd_ms(), **m)
    if tally is not None:
        tally.event(e)
    return e


_n = [0]


def rnd_ms():
    _n[0] += 1
    return 1000 + (_n[0] * 7919) % 600000


evs = []
for k in range(30):
    evs.append(one(X, tx, "DELIVERED", "OK"))
    evs.append(one(Y, ty, "BOUNCED", "HARD_BOUNCE"))
    evs.append(one(X if k % 2 else Y, tx if k % 2 else ty, "DROPPED", "SUPPRESSED", phase="PRE_PROCESS"))
jx = new_job_id()
rec = intake(X["id"], jx, now - 60000, [recipient(jx, 0, i, "i%d@example.com" % i) for i in range(5)])
tx.intake(now - 60000, 5)
evs.append(rec)
# a tracking event (no account): X's job by its acceptance record
jt, _ = insert_job(X["id"], received=now - 300000)
opened = event(0, jt, rid(jt), 0, "POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", ts=now - 5000, key=iso(now - 5000))
tx.event(opened)
evs.append(opened)
# a tracking event of a job nobody accepted: counts nowhere
stray = event(0, new_job_id(), rid(new_job_id()), 0, "POST_PROCESS", "POST_DELIVERY", "CLICKED", "OK", ts=now - 4000)
evs.append(stray)
publish_events(evs)


def both_right():
    sx, jxs = stats(X, "1h")
    sy, jys = stats(Y, "1h")
    return sx == 200 and sy == 200 and answer_matches(jxs, tx) and answer_matches(jys, ty)


wait_until(both_right, 60, "each account counts its own events", interval=0.5)
check_answer(X, "1h", tx)
check_answer(Y, "1h", ty)
check(tx.totals(0, now + DAY) != ty.totals(0, now + DAY), "the two accounts' figures differ")
eq(sql("SELECT COUNT(*) FROM stat_minute WHERE account_id=0")[0][0], 0, "no counters without an account")

# republished: the same event (same tag), the same intake record, and
# malformed deliveries; then one new event as a marker
p = Publisher()
try:
    p.event(evs[0])
    p.event(rec)
    p.event(opened)
    p.raw("txmail.events", "DELIVERED.OK", b"not json")
    p.raw("txmail.events", "DELIVERED.OK", b'{"phase":"DELIVER","type":"DELIVERED","subType":"OK","rid":"x"}')
    marker = one(X, tx, "CLICKED", "OK", phase="POST_PROCESS", state="POST_DELIVERY", ts=now - 3000)
    p.event(marker)
finally:
    p.close()
wait_until(lambda: answer_matches(stats(X, "1h")[1], tx), 60, "the marker counted", interval=0.5)
check_answer(X, "1h", tx)
check_answer(Y, "1h", ty)
t = stats(X, "1h")[1]["totals"]
eq((t["delivered"], t["accepted"], t["opened"]), (30, 5, 1), "the republished events and intake record counted once")

D = E["TXMAIL_STACK_DIR"]
pid = int(open(D + "/log/monitor-1.log.pid").read())


def malformed_metric():
    for f in glob.glob(D + "/metrics/monitor-%d.prom" % pid):
        g = re.search(r'txmail_monitor_events_total\{[^}]*outcome="malformed"[^}]*\} (\d+)', open(f).read())
        if g and int(g.group(1)) >= 2:
            return True
    return False


wait_until(malformed_metric, 15, "malformed deliveries counted in the monitor's metrics")
done()
