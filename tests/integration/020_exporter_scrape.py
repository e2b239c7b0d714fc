"""txmail-exporter (TXMAIL_METRICS_URL): one scrape gives a valid
exposition (strict check: one TYPE per family before its samples, the
samples of a family together, no series twice) holding the metrics of
every running program of the stack, each sample labelled with its program
and pid, every series of every program's textfile included."""
import glob
import os
import urllib.request

from txtest import *
from txevents import *
from txprom import parse, samples

D = E["TXMAIL_STACK_DIR"]
URL = E["TXMAIL_METRICS_URL"]


def scrape():
    with urllib.request.urlopen(URL, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def running():
    """program -> pid of every program the stack runs (scripts/stack.d)."""
    out = {}
    for f in glob.glob(D + "/log/*-1.log.pid"):
        name = os.path.basename(f)[:-len("-1.log.pid")]
        pid = int(open(f).read())
        if os.path.exists("/proc/%d" % pid):
            out[name] = pid
    return out


# some work for the batch programs, so their counters exist
a = new_account()
job = new_job_id()
publish_events([event(a["id"], job, rid(job), now_ms(), "DELIVER", "FINISHED", "DELIVERED", "OK",
                      email="m@example.com", frm="s@example.com")])
wait_until(lambda: sql("SELECT 1 FROM event WHERE account_id=%s", a["id"]), 30, "the event recorded")
time.sleep(6)     # the next textfile round
progs = running()
for p in ("rest", "render", "deliver", "recorder", "notify", "monitor", "exporter"):
    check(p in progs, "the stack runs %s" % p)
# every program's textfile is there (written every 5 s)
wait_until(lambda: all(os.path.exists("%s/metrics/%s-%d.prom" % (D, p, pid)) for p, pid in progs.items()),
           15, "every program's textfile")
files = {}
for p, pid in progs.items():
    files[p] = parse(open("%s/metrics/%s-%d.prom" % (D, p, pid)).read())   # the files are valid too

st, ctype, text = scrape()
eq(st, 200, "GET /metrics")
check(ctype.startswith("text/plain; version=0.0.4"), "content type of the text format (%s)" % ctype)
fams = parse(text)     # raises on any deviation
log("%d families, %d samples" % (len(fams), len(samples(fams))))
for name, labels, _ in samples(fams):
    if not ("program" in labels and labels.get("pid", "").isdigit()):
        fail("sample %s%s without program and pid" % (name, labels))
up = {(l["program"], int(l["pid"])) for n, l, v in fams["txmail_up"]["samples"] if v == 1}
for p, pid in progs.items():
    check((p, pid) in up, "txmail_up{program=%s,pid=%d} 1" % (p, pid))
merged = {(n, tuple(sorted(l.items()))) for n, l, _ in samples(fams)}
for p, f in files.items():
    for n, l, _ in samples(f):
        if (n, tuple(sorted(l.items()))) not in merged:
            fail("series %s%s of %s missing from the scrape" % (n, l, p))
    for fam, body in f.items():
        if body["samples"]:
            eq(fams[fam]["type"], body["type"], "%s: the family's type as the program wrote it" % fam)
# programs' own families are there
for fam in ("txmail_monitor_events_total", "txmail_recorder_events_total", "txmail_latency_seconds"):
    check(fam in fams and fams[fam]["samples"], "family %s present" % fam)
eq(fams["txmail_latency_seconds"]["type"], "histogram", "latency is one histogram family")
# the exporter's own counters show up once its textfile was written after a scrape
wait_until(lambda: parse(scrape()[2]).get("txmail_exporter_files_total", {}).get("samples"), 15,
           "the exporter's own metrics")
done()
