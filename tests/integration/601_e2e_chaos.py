"""Nothing lost, nothing doubled, end to end: jobs posted to REST while
render, deliver, recorder and notify are killed with SIGKILL (the
supervisor restarts them) and the broker is restarted. Every job answered
200 ends delivered exactly once (counted at the sink), recorded once
(message and event rows) and notified (duplicates only with the same tag).
The client retries 503s and connection errors with its Idempotency-Key, as
the contract tells it to."""
import concurrent.futures
import os
import signal
import threading

from txtest import *
import txrest

N = 120
hook = WebhookReceiver()
acct = new_account(notify_url=hook.url)
stack("publish-dns")
run = uniq("chaos")
LOGS = os.path.join(E["TXMAIL_STACK_DIR"], "log")


def request(i):
    return {"subject": {"content": "chaos %d" % i},
            "body": {"contentType": "text/html", "content": "<p>message %d</p>" % i},
            "recipients": [{"mail": {"to": [{"email": "%s-%d@example.test" % (run, i)}]}}],
            "mail": {"from": {"email": "Chaos <chaos@%s>" % acct["domain"]}}}


accepted = {}
lock = threading.Lock()


def submit(i):
    key = "%s-%d" % (run, i)
    for _ in range(240):
        try:
            st, _, _, doc = txrest.Client(user=acct["user"], password=acct["password"], timeout=20).post(
                request(i), headers={"Idempotency-Key": key})
        except Exception:  # noqa: BLE001 - connection refused or reset while the broker restarts
            st, doc = None, None
        if st == 200:
            with lock:
                accepted[i] = doc["meta"]["jobId"]
            return
        if st not in (None, 503, 409):
            fail("job %d: unexpected answer %s %r" % (i, st, doc))
        time.sleep(0.5)
    fail("job %d was never accepted" % i)


def kill9(name):
    with open(os.path.join(LOGS, "%s-1.log.pid" % name)) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGKILL)
    log("killed %s (pid %d)" % (name, pid))


def chaos():
    time.sleep(1.0)
    kill9("render")
    time.sleep(1.0)
    kill9("deliver")
    time.sleep(0.5)
    stack("restart-broker")
    log("broker restarted")
    time.sleep(1.0)
    kill9("recorder")
    time.sleep(0.5)
    kill9("notify")
    time.sleep(1.0)
    kill9("deliver")


t = threading.Thread(target=chaos)
t.start()
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda i: (submit(i), time.sleep(0.05)), range(N)))
t.join()
eq(len(accepted), N, "every job accepted in the end")

# exactly once at the sink
def sink_counts():
    counts = {}
    for meta, _ in sink_messages():
        for r in meta["rcptTo"]:
            if r.startswith(run + "-"):
                counts[r] = counts.get(r, 0) + 1
    return counts


counts = wait_until(lambda: (lambda c: c if len(c) == N else None)(sink_counts()), 240,
                    "all %d messages at the sink" % N)
time.sleep(3)
counts = sink_counts()
eq(sorted(set(counts.values())), [1], "every message exactly once at the sink")

# recorded once, final DELIVERED
jobs = sorted(accepted.values())
marks = ",".join(["%s"] * len(jobs))


def recorded():
    rows = sql("SELECT last_type, COUNT(*) FROM message WHERE job_id IN (%s) GROUP BY last_type" % marks, *jobs)
    return rows if dict(rows).get("DELIVERED") == N else None


rows = wait_until(recorded, 120, "every message row final DELIVERED")
eq(dict(rows), {"DELIVERED": N}, "one message row per address, all DELIVERED")
ev = sql("SELECT rid, COUNT(*) FROM event WHERE job_id IN (%s) AND type='DELIVERED' GROUP BY rid" % marks, *jobs)
eq((len(ev), sorted({x[1] for x in ev})), (N, [1]), "one DELIVERED event row per address")
dups = sql("SELECT COUNT(*) FROM job WHERE job_id IN (%s)" % marks, *jobs)[0][0]
eq(dups, N, "one acceptance record per accepted job")
extra = sql("SELECT COUNT(*) FROM job WHERE account_id=%s", acct["id"])[0][0]
eq(extra, N, "no job exists that the client was not told about")

# notified: every DELIVERED arrives, duplicates carry the same tag
def delivered_notes():
    out = {}
    for _, n, _ in hook.notifications():
        if n["meta"]["event"]["type"] == "DELIVERED" and n["meta"]["mail"]["id"].split("#")[0] in accepted.values():
            out.setdefault(n["meta"]["mail"]["id"], set()).add(n["meta"]["tag"])
    return out if len(out) == N else None


notes = wait_until(delivered_notes, 180, "a DELIVERED webhook for every address")
eq(sorted({len(v) for v in notes.values()}), [1], "repeated notifications carry the same tag")
for name in ("render", "deliver", "recorder", "notify"):
    with open(os.path.join(LOGS, "%s-1.log.pid" % name)) as f:
        pid = int(f.read().strip())
    check(os.path.exists("/proc/%d" % pid), "%s was restarted by its supervisor" % name)
hook.stop()
done()
