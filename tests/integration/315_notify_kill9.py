"""txmail-notify: kill -9 while POSTs are in flight (the supervisor starts it
again) -> nothing is lost: every notification arrives, duplicates only with
the same tag and the same content. SIGTERM while POSTs are in flight ->
the POSTs in hand are finished, the process exits 0, nothing is lost."""
import os
import signal
from txtest import *
from txevents import *

D = E["TXMAIL_STACK_DIR"]
acct = new_account()
A = acct["id"]
hook = WebhookReceiver(delay=1.0)
hook.server.handle_error = lambda *a: None


def child():
    return int(open(D + "/log/notify-1.log.pid").read())


def burst(n, tagp):
    evs = []
    for i in range(n):
        job, received = insert_job(A, notification={"url": hook.url})
        for k in range(2):
            r = rid(job, 0, k)
            m = dict(email="%s%d-%d@example.com" % (tagp, i, k), frm="s@example.com")
            evs += [event(A, job, r, received, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", **m),
                    event(A, job, r, received, "DELIVER", "FINISHED", "DELIVERED", "OK", **m)]
    publish_events(evs)
    return evs


def arrived():
    got = {}
    for _, n, _ in hook.notifications():
        got.setdefault(n["meta"]["tag"], []).append(n)
    return got


def verify(evs, what):
    want = {e["tag"]: notification(e) for e in evs}
    got = wait_until(lambda: (lambda g: g if set(want) <= set(g) else None)(arrived()), 60,
                     "every notification after " + what)
    check(all(n == want[t] for t in want for n in got[t]), what + ": duplicates carry the same tag and content")
    return sum(len(got[t]) for t in want) - len(want)


# kill -9 mid-flight
pid = child()
evs = burst(12, "k")
wait_until(lambda: len(hook.requests) >= 2, 15, "POSTs in flight")
os.kill(pid, signal.SIGKILL)
wait_until(lambda: child() != pid, 15, "the supervisor restarted notify")
dups = verify(evs, "kill -9")
log("duplicates after kill -9: %d" % dups)
eq(queue_count("events.notify"), 0, "no event left behind")

# SIGTERM mid-flight: finish, exit 0
hook.requests.clear()
pid = child()
evs2 = burst(12, "t")
wait_until(lambda: len(hook.requests) >= 2, 15, "POSTs in flight")
os.kill(pid, signal.SIGTERM)
wait_until(lambda: not os.path.exists("/proc/%d" % pid), 40, "notify stopped")


def exit_line():
    """the supervisor's line about this pid's end (written just after the process is reaped)"""
    tail = open(D + "/log/notify-1.log").read().split("[%d]: stopping" % pid)[-1]
    return "exited with" in tail and tail


check("exited with status 0" in wait_until(exit_line, 10, "the supervisor logged notify's exit"),
      "exit status 0 after SIGTERM")
dups2 = verify(evs2, "SIGTERM")
eq(dups2, 0, "a graceful stop posts nothing twice")
# leftovers of the kill -9 (duplicates parked for later) arrive too before the receiver goes
end = time.time() + 20
while time.time() < end:
    n = len(hook.requests)
    time.sleep(3)
    if len(hook.requests) == n:
        break
done()
