"""txmail-exporter leaves out the textfiles of processes that are gone (a
program killed with -9 leaves its file behind; a file of a pid that does
not exist) and files older than exporter_stale (15 s), merges a fresh file
of a live process, rejects its malformed lines and the samples of a family
whose TYPE contradicts the other programs', and ignores files not named <program>-<pid>.prom."""
import os
import signal
import subprocess
import urllib.request

from txtest import *
from txprom import parse, samples

D = E["TXMAIL_STACK_DIR"]
M = D + "/metrics"
URL = E["TXMAIL_METRICS_URL"]


def scrape():
    with urllib.request.urlopen(URL, timeout=10) as r:
        return parse(r.read().decode())


def pids_of(fams, program):
    return {l["pid"] for n, l, _ in samples(fams) if l.get("program") == program}


# a pid that certainly does not exist any more
p = subprocess.Popen(["true"])
p.wait()
dead = p.pid
me = os.getpid()
body = ("# TYPE txmail_up gauge\ntxmail_up 1\n"
        "# TYPE txmail_fake_total counter\ntxmail_fake_total{kind=\"a\"} 3\n")
made = []


def put(name, text, age=0):
    path = os.path.join(M, name)
    with open(path, "w") as f:
        f.write(text)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))
    made.append(path)


try:
    put("ghost-%d.prom" % dead, body)                                  # process gone
    put("oldie-%d.prom" % me, body, age=60)                            # stale
    put("fresh-%d.prom" % me, body + "txmail_broken{x=\"1\" 2\n"
        "# TYPE txmail_inflight counter\ntxmail_inflight 5\n")        # the stack's programs: a gauge
    put("notes-%d.txt" % me, body)                                     # not a textfile of ours
    put("fresh-%d.prom.tmp" % me, body)                                # a file being written
    f = scrape()
    eq(pids_of(f, "ghost"), set(), "the file of a pid that is gone is left out")
    eq(pids_of(f, "oldie"), set(), "a file older than exporter_stale is left out")
    eq(pids_of(f, "notes") | pids_of(f, "fresh.prom"), set(), "other names are ignored")
    eq(pids_of(f, "fresh"), {str(me)}, "a fresh file of a live process is merged")
    got = {(n, tuple(sorted(l.items())), v) for n, l, v in samples(f) if l.get("program") == "fresh"}
    eq(got, {("txmail_up", (("pid", str(me)), ("program", "fresh")), 1.0),
             ("txmail_fake_total", (("kind", "a"), ("pid", str(me)), ("program", "fresh")), 3.0)},
       "its samples, labelled with program and pid; the malformed line and the contradicting family left out")
    eq(f["txmail_inflight"]["type"], "gauge", "one TYPE for txmail_inflight: the contradicting one rejected")

    # a stack program killed with -9 leaves its file behind: left out
    old = int(open(D + "/log/notify-1.log.pid").read())
    wait_until(lambda: os.path.exists("%s/notify-%d.prom" % (M, old)), 15, "notify's textfile")
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: not os.path.exists("/proc/%d" % old), 10, "notify gone")
    check(os.path.exists("%s/notify-%d.prom" % (M, old)), "the killed process's file is still there")
    eq(str(old) in pids_of(scrape(), "notify"), False, "the killed process's metrics are left out")
    wait_until(lambda: int(open(D + "/log/notify-1.log.pid").read()) != old, 15, "notify restarted")
    new = int(open(D + "/log/notify-1.log.pid").read())
    wait_until(lambda: str(new) in pids_of(scrape(), "notify"), 15, "the new notify's metrics")
    eq(pids_of(scrape(), "notify"), {str(new)}, "only the live notify")
    os.unlink("%s/notify-%d.prom" % (M, old))
finally:
    for path in made:
        if os.path.exists(path):
            os.unlink(path)
done()
