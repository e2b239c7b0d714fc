"""txmail-scan: a large clean job, and signatures replaced while jobs flow:
- a job near the REST size limit (a 14.5 MB attachment: 19.4 MB of base64,
  a ~20 MB message) is scanned clean and delivered once, and the scanner's
  resident size stays bounded (under 6 x the attachment above its size
  before the job);
- a scanner on its own copies of the signature and rule directories
  (checked every second): while 30 clean jobs flow, the ClamAV .ndb file
  is replaced (renamed into place) with one that also knows a new probe
  string, and a YARA rule file is added: every one of the 30 jobs is
  delivered exactly once, the reloads are logged, and afterwards the new
  probe string (ClamAV) and the new rule's marker (YARA) are caught."""
from scantest import *
import shutil
import threading

MB = 1 << 20
a = av_account()
run = uniq("s353")

# ---------------------------------------------------------------- large clean job
PID = stack_scan_pid()


def vm(field, pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


before = vm("VmRSS", PID)
with open("/proc/%d/clear_refs" % PID, "w") as f:
    f.write("5")
big = os.urandom(14 * MB + MB // 2)
t0 = run + "-big@example.net"
job, rids = rest_job(a, [t0], attachments=[("big.bin", big)], timeout=300)
m = sink_wait(t0, timeout=180)
eq(len(m), 1, "the large clean job is delivered once")
check(len(m[0][1]) > 19 * MB, "the delivered message is %.1f MB" % (len(m[0][1]) / MB))
line = wait_log(job)[0]
check("verdict=clean" in line and "bytes=%d," % len(big) in line, "logged clean, every decoded byte scanned")
check("parts=1" in line, "one part (the attachment) scanned: %s" % line.strip())
peak = vm("VmHWM", PID) - before
log("txmail-scan on a %.1f MB attachment: peak +%.1f MB" % (len(big) / MB, peak / MB))
check(peak < 6 * len(big), "the scanner's peak stays under 6 x the attachment (+%.0f MB)" % (peak / MB))

# ---------------------------------------------------------------- reload while jobs flow
d = os.path.join(E["TXMAIL_STACK_DIR"], uniq("scan353"))
cdir, ydir = os.path.join(d, "clamav"), os.path.join(d, "yara")
shutil.copytree(os.path.join(REPO, "conf", "clamav"), cdir)
shutil.copytree(os.path.join(REPO, "conf", "yara"), ydir)
own = own_scanner("-o", "scan_clamav_signatures=" + cdir, "-o", "scan_yara_rules=" + ydir,
                       "-o", "scan_check_interval=1s", log_name="scan-353")
PROBE = "TXMAIL-RELOAD-PROBE-353"
NEWMARK = "TXMAIL-YARA-RELOAD-MARK-353"
time.sleep(1)
check(own.alive(), "the own scanner runs")

sent = []


def flow():
    for i in range(30):
        t = "%s-flow%d@example.net" % (run, i)
        rest_job(a, [t], attachments=[("f%d.txt" % i, ("flow %d %s" % (i, "x" * 5000)).encode())])
        sent.append(t)
        time.sleep(0.1)


th = threading.Thread(target=flow)
th.start()
wait_until(lambda: len(sent) >= 8, 60, "jobs flowing")
ndb = os.path.join(cdir, "txmail-test.ndb")
with open(ndb) as f:
    old = f.read()
with open(ndb + ".new", "w") as f:
    f.write(old + "Txmail.Test.Reload353:0:*:%s\n" % PROBE.encode().hex())
os.rename(ndb + ".new", ndb)
with open(os.path.join(ydir, ".reload.tmp"), "w") as f:
    f.write('rule Txmail_Reload_353 { strings: $a = "%s" condition: $a }\n' % NEWMARK)
os.rename(os.path.join(ydir, ".reload.tmp"), os.path.join(ydir, "reload353.yar"))
th.join(120)
eq(len(sent), 30, "30 jobs submitted")
for t in sent:
    eq(len(sink_wait(t, timeout=60)), 1, "%s delivered once" % t)
wait_until(lambda: "signatures in %s reloaded" % cdir in own.log_text(), 20, "ClamAV reload logged")
wait_until(lambda: "rules in %s reloaded" % ydir in own.log_text(), 20, "YARA reload logged")
time.sleep(1)
for t in sent:
    eq(len(sink_for(t)), 1, "%s: still exactly one delivery" % t)

t1 = run + "-probe@example.net"
job, rids = rest_job(a, [t1], attachments=[("p.txt", ("a " + PROBE + " b").encode())])
ev = wait_final(rids[0], "VIRUS_DETECTED")
eq([(i["engine"], i["signature"]) for i in infected_of(ev)], [("clamav", "Txmail.Test.Reload353.UNOFFICIAL")],
   "the replaced .ndb file's new signature is used")
t2 = run + "-mark@example.net"
job, rids = rest_job(a, [t2], attachments=[("m.txt", ("a " + NEWMARK + " b").encode())])
ev = wait_final(rids[0], "VIRUS_DETECTED")
eq([(i["engine"], i["signature"]) for i in infected_of(ev)], [("yara", "YARA.Txmail_Reload_353")],
   "the added YARA rule is used")
check("yara_rules=3" in log_lines(job, own.log_path)[0], "the job's line counts 3 rules")


def metrics():
    path = os.path.join(E["TXMAIL_STACK_DIR"], "metrics", "scan-%d.prom" % own.pid)
    out = {}
    for l in open(path) if os.path.exists(path) else []:
        m = re.match(r'(txmail_scan_\w+)\{[^}]*?(?:(verdict|engine)="(\w+)")?\} (\S+)', l)
        if m:
            out[m.group(1) + (":" + m.group(3) if m.group(3) else "")] = float(m.group(4))
    return out


got = wait_until(lambda: (lambda m: m if m.get("txmail_scan_jobs_total:infected") == 2 else None)(metrics()), 30,
                 "the scanner's metrics")
check(got.get("txmail_scan_jobs_total:clean", 0) >= 25, "clean jobs counted (%s)" % got)
eq((got.get("txmail_scan_engine_reloads_total:clamav"), got.get("txmail_scan_engine_reloads_total:yara")),
   (1.0, 1.0), "one reload of each engine counted")
check(got.get("txmail_scan_parts_total", 0) >= 32 and got.get("txmail_scan_bytes_total", 0) > 30 * 5000,
      "parts and bytes counted")
done()
