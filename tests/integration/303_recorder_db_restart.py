"""txmail-recorder: the database stops in the middle of a stream of
events and comes back: the recorder keeps the batch in hand, retries, and
in the end every intake record and every event is recorded exactly once;
the recorder process never exits. txmail-notify, which needs the job and
account rows, holds the events meanwhile and posts every one afterwards."""
import threading
from txtest import *
from txevents import *

acct = new_account()
A = acct["id"]
pidfile = E["TXMAIL_STACK_DIR"] + "/log/recorder-1.log.pid"
pid0 = open(pidfile).read().strip()
npid0 = open(E["TXMAIL_STACK_DIR"] + "/log/notify-1.log.pid").read().strip()
JOBS, PER = 60, 5
recv = now_ms()
hook = WebhookReceiver()
jobs = [insert_job(A, notification={"url": hook.url}, received=recv)[0] for _ in range(JOBS)]
tags = set()
stop_at = threading.Event()


def publisher():
    p = Publisher()
    try:
        for i, job in enumerate(jobs):
            evs = [intake(A, job, recv, [recipient(job, 0, k, "r%d-%d@example.com" % (i, k)) for k in range(PER)])]
            for k in range(PER):
                r = rid(job, 0, k)
                evs.append(event(A, job, r, recv, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED",
                                 ts=recv + i, email="r%d-%d@example.com" % (i, k), frm="s@example.com"))
                evs.append(event(A, job, r, recv, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=recv + 100 + i,
                                 email="r%d-%d@example.com" % (i, k), frm="s@example.com", smtp_code="250"))
            for e in evs:
                if "tag" in e:
                    tags.add(e["tag"])
                p.event(e)
            time.sleep(0.05)
    finally:
        p.close()


th = threading.Thread(target=publisher)
th.start()
time.sleep(0.8)
stack("stop-db")
log("database stopped")
time.sleep(3)
stack("start-db")
log("database started")
th.join()
n = JOBS * PER
wait_until(lambda: sql("SELECT COUNT(*) FROM event WHERE account_id=%s", A)[0][0] == 2 * n, 60,
           "every event recorded after the restart")
eq(sql("SELECT COUNT(*) FROM message WHERE account_id=%s", A)[0][0], n, "every message row")
eq(sql("SELECT COUNT(*) FROM message WHERE account_id=%s AND last_type='DELIVERED' AND final_at IS NOT NULL "
       "AND entry='rest'", A)[0][0], n, "every message delivered and completed by its intake record")
eq(set(r[0] for r in sql("SELECT tag FROM event WHERE account_id=%s", A)), tags, "exactly the published tags")
eq(open(pidfile).read().strip(), pid0, "the recorder kept running (no restart)")
wait_until(lambda: tags <= {n["meta"]["tag"] for _, n, _ in hook.notifications()}, 60,
           "every notification posted after the outage")
eq(open(E["TXMAIL_STACK_DIR"] + "/log/notify-1.log.pid").read().strip(), npid0, "notify kept running too")
logt = open(E["TXMAIL_STACK_DIR"] + "/log/recorder-1.log").read()
check("database unavailable" in logt and "database available again" in logt, "outage and recovery logged")
done()
