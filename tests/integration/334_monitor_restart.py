"""txmail-monitor killed and restarted keeps counting: kill -9 in the
middle of a stream loses nothing (unacked deliveries come back) and counts
at most one batch twice (a crash between commit and ack, the documented
limit); SIGTERM in the middle of a stream flushes what it holds, and what
arrives while it is down is counted after the restart: exact. Buckets
older than the 45-day retention are deleted, younger ones kept."""
import os
import signal
import threading

from txtest import *
from txevents import *
from txstats import *

D = E["TXMAIL_STACK_DIR"]
BATCH_MAX = 1000   # monitor_batch_max of conf/stack/monitor.conf.in


def monitor_pid():
    return int(open(D + "/log/monitor-1.log.pid").read())


def stream(acct, n, tally, pause_every=200):
    p = Publisher()
    now = now_ms()
    try:
        for i in range(n):
            job = new_job_id()
            ts = now - 1000 - (i * 997) % 1800000
            e = event(acct["id"], job, rid(job), ts, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=ts,
                      email="k@example.com", frm="s@example.com")
            tally.event(e)
            p.event(e)
            if i % pause_every == 0:
                time.sleep(0.05)
    finally:
        p.close()


def delivered(acct):
    st, j = stats(acct, "1h")
    return j["totals"]["delivered"] if st == 200 else -1


# retention: a bucket of 46 days ago goes, one of 44 days ago stays
K = new_account()
old, young = now_ms() - 46 * DAY, now_ms() - 44 * DAY
for t in (old, young):
    sql("INSERT INTO stat_minute (account_id, minute, counter, n) VALUES (%s, %s, 'delivered', 1)",
        K["id"], sqltime(t - t % MIN)[:19])

# 1. kill -9 in the middle of a stream
A, ta, N = new_account(), Tally(), 4000
pid = monitor_pid()
th = threading.Thread(target=stream, args=(A, N, ta))
th.start()
wait_until(lambda: delivered(A) > 500, 60, "counting under way", interval=0.2)
os.kill(pid, signal.SIGKILL)
th.join()
wait_until(lambda: monitor_pid() != pid, 15, "the supervisor restarted the monitor")
wait_until(lambda: delivered(A) >= N, 90, "every event counted after the restart", interval=0.5)
time.sleep(1.5)
got = delivered(A)
check(N <= got <= N + BATCH_MAX, "kill -9: nothing lost, at most one batch counted twice (%d of %d)" % (got, N))

# 2. SIGTERM in the middle of a stream, events published while it is down
B, tb = new_account(), Tally()
pid = monitor_pid()
th = threading.Thread(target=stream, args=(B, 3000, tb))
th.start()
wait_until(lambda: delivered(B) > 300, 60, "counting under way", interval=0.2)
os.kill(pid, signal.SIGTERM)
th.join()
wait_until(lambda: monitor_pid() != pid, 30, "the supervisor restarted the monitor")
wait_until(lambda: answer_matches(stats(B, "1h")[1], tb), 90, "every event counted after the restart", interval=0.5)
check_answer(B, "1h", tb)
check_answer(B, "24h", tb)

# the restarted monitor swept the expired bucket
wait_until(lambda: sql("SELECT COUNT(*) FROM stat_minute WHERE account_id=%s AND minute < %s", K["id"],
                       sqltime(now_ms() - 45 * DAY))[0][0] == 0, 30, "the 46-day-old bucket deleted")
eq(sql("SELECT COUNT(*) FROM stat_minute WHERE account_id=%s", K["id"])[0][0], 1, "the 44-day-old bucket kept")
st, j = stats(K, "45d")
eq(j["totals"]["delivered"], 1, "45d: the kept bucket is served")
done()
