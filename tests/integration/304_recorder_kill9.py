"""txmail-recorder: kill -9 in the middle of a stream (the supervisor starts
it again): every event recorded exactly once, every message in its final
state, the deferral count right (replayed batches change nothing)."""
import os
import signal
import threading
from txtest import *
from txevents import *

D = E["TXMAIL_STACK_DIR"]
acct = new_account()
A = acct["id"]
JOBS, PER = 100, 4
recv = now_ms()
jobs = [new_job_id() for _ in range(JOBS)]


def publisher():
    p = Publisher()
    try:
        for i, job in enumerate(jobs):
            p.event(intake(A, job, recv, [recipient(job, 0, k, "k%d-%d@example.com" % (i, k)) for k in range(PER)]))
            for k in range(PER):
                r = rid(job, 0, k)
                m = dict(email="k%d-%d@example.com" % (i, k), frm="s@example.com")
                for e in (event(A, job, r, recv, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=recv + 1, **m),
                          event(A, job, r, recv, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=recv + 2, key="1", **m),
                          event(A, job, r, recv, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=recv + 3, key="2", **m),
                          event(A, job, r, recv, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=recv + 4, smtp_code="250", **m)):
                    p.event(e)
            if i % 10 == 0:
                time.sleep(0.05)
    finally:
        p.close()


pid = int(open(D + "/log/recorder-1.log.pid").read())
th = threading.Thread(target=publisher)
th.start()
wait_until(lambda: sql("SELECT COUNT(*) FROM event WHERE account_id=%s", A)[0][0] > 200, 20, "recording under way")
os.kill(pid, signal.SIGKILL)
th.join()
wait_until(lambda: int(open(D + "/log/recorder-1.log.pid").read()) != pid, 15, "the supervisor restarted the recorder")
n = JOBS * PER
wait_until(lambda: sql("SELECT COUNT(*) FROM event WHERE account_id=%s", A)[0][0] == 4 * n, 60, "every event")
time.sleep(0.5)
eq(sql("SELECT COUNT(*) FROM event WHERE account_id=%s", A)[0][0], 4 * n, "exactly once (no duplicates)")
eq(sql("SELECT COUNT(*), SUM(deferrals), COUNT(final_at) FROM message WHERE account_id=%s AND last_type='DELIVERED' "
       "AND smtp_code='250' AND entry='rest'", A)[0], (n, 2 * n, n), "every message delivered, two deferrals each")
eq(sql("SELECT COUNT(*) FROM message WHERE account_id=%s", A)[0][0], n, "one message row per recipient")
done()
