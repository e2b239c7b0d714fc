#!/usr/bin/python3
"""bench/recorder-throughput - rows/s of txmail-recorder against the stack's
MariaDB (not part of make test).

Stops the stack's recorder, loads JOBS intake records (RCPTS recipients
each) and four events per recipient straight into events.recorder, then
starts one txmail-recorder and times until every event row is written.
Prints events/s and rows/s (message rows inserted + event rows + message
state updates) for each recorder_batch_max given.

  TXMAIL_STACK_DIR=... bench/recorder-throughput.py [--jobs 500] [--rcpts 10] [--batch 100,500,2000]
Needs a running stack (scripts/txmail-stack up) and its environment.
No figure from failed work: the recorder must write every event row and
every message row without exiting; otherwise FAIL and exit status 1.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
env = subprocess.run([os.path.join(REPO, "scripts", "txmail-stack"), "env"], capture_output=True, text=True).stdout
for line in env.splitlines():
    k, _, v = line.partition("=")
    os.environ.setdefault(k, v)
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "lib"))
from txtest import E, Program, fail, new_account, sql, stack, wait_until  # noqa: E402
from txevents import Publisher, event, intake, new_job_id, now_ms, recipient, rid  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--jobs", type=int, default=500)
ap.add_argument("--rcpts", type=int, default=10)
ap.add_argument("--batch", default="100,500,2000")
ap.add_argument("--log-events", default="no")
ap.add_argument("--binary", default="txmail-recorder", help="another build to compare")
a = ap.parse_args()

D = E["TXMAIL_STACK_DIR"]


def cpu(pid):
    """user+system CPU seconds of a process"""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


sup = int(open(D + "/run/recorder-1.pid").read())
child = int(open(D + "/log/recorder-1.log.pid").read())
os.kill(sup, signal.SIGTERM)
wait_until(lambda: not os.path.exists("/proc/%d" % child), 30, "the stack's recorder stopped")
try:
    for batch in [int(b) for b in a.batch.split(",")]:
        acct = new_account()
        A = acct["id"]
        recv = now_ms()
        p = Publisher()
        nev = 0
        for j in range(a.jobs):
            job = new_job_id()
            p.event(intake(A, job, recv, [recipient(job, 0, k, "b%d-%d@example.com" % (j, k)) for k in range(a.rcpts)]),
                    exchange="", key="events.recorder")
            for k in range(a.rcpts):
                r = rid(job, 0, k)
                m = dict(email="b%d-%d@example.com" % (j, k), frm="s@example.com", message_id="<%s@x>" % r)
                for e in (event(A, job, r, recv, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=recv + 1, **m),
                          event(A, job, r, recv, "PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED", ts=recv + 2, size=5000, **m),
                          event(A, job, r, recv, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", ts=recv + 3, key="1", **m),
                          event(A, job, r, recv, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=recv + 4, smtp_code="250", **m)):
                    p.event(e, exchange="", key="events.recorder")
                    nev += 1
        p.close()
        mpid = int(open(D + "/mariadb/mariadbd.pid").read())
        m0 = cpu(mpid)
        rec = Program(a.binary, "-o", "recorder_batch_max=%d" % batch, "-o", "recorder_log_events=" + a.log_events,
                      log_name="bench-recorder")
        t0 = time.time()

        def all_events():
            if rec.proc.poll() is not None:
                fail("txmail-recorder exited (status %d) before writing every event: no figure" % rec.proc.returncode)
            return sql("SELECT COUNT(*) FROM event WHERE account_id=%s", A)[0][0] == nev

        wait_until(all_events, 600, "all events", interval=0.05)
        secs = time.time() - t0
        nrows = sql("SELECT COUNT(*) FROM message WHERE account_id=%s", A)[0][0]
        if nrows != a.jobs * a.rcpts:
            fail("%d message rows for %d recipients: no figure" % (nrows, a.jobs * a.rcpts))
        rcpu = cpu(rec.pid)
        rec.stop()
        mcpu = cpu(mpid) - m0
        nmsg = a.jobs * a.rcpts
        rows = nev + nmsg + nmsg  # event rows, message inserts, state updates (one per recipient per batch at least)
        print("batch_max=%-5d events=%d messages=%d  %.2fs  %.0f events/s  %.0f rows/s (incl. ~1s start-up); "
              "CPU: recorder %.2fs, mariadbd %.2fs = %.0f rows per CPU-second"
              % (batch, nev, nmsg, secs, nev / secs, rows / secs, rcpu, mcpu, rows / max(rcpu + mcpu, 0.01)),
              flush=True)
finally:
    stack("programs-up")
