"""bench_scan - the "scan" section of make bench (see bench/run): the scan
stage's throughput on the benchmark's 200 KB job (a 100 KB HTML body with
links and a 100 KB attachment; scope "all", so both parts are scanned),
in the process and against clamd in the same run:

  txmail   workers/scan/scan_bench: scan_job_check in one thread, both
           engines (libclamav + YARA), the attachment decoded from base64
           as txmail-scan does; and libclamav alone on the same parts
  clamd    clamd (package clamav-daemon) in a private directory on a
           loopback TCP port with the same signature directory
           (conf/clamav), fed by clamdscan --stream with the same parts as
           files (one clamdscan run over all of them, so no process start
           per message): the way a mail filter hands parts to clamd

Figures: messages/s (wall), messages per CPU second (per core: the
figure that does not depend on the host's other load; clamd's CPU counted
from /proc plus clamdscan's), CPU ms per message, and the ratio txmail
(both engines) / clamd per CPU second (goal >= 1.5).
Checked: every job clean in-process (scan_bench exits 1 otherwise), every
file OK from clamd, and an EICAR control file FOUND by clamd.
"""
import json
import os
import random
import resource
import shutil
import subprocess
import time

from benchlib import BIN, REPO, WORK, BenchFailure, log, proc_cpu, run_checked, summary, wait_port

SIGS = os.path.join(REPO, "conf", "clamav")
RULES = os.path.join(REPO, "conf", "yara")
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STAND" + "ARD-ANTIVIRUS-TEST-FILE!$H+H*"


def files(d, n):
    """the body and n distinct 100 KB attachments"""
    rnd = random.Random(15)
    body = os.path.join(d, "body.html")
    line = '<p>Hello %d, <a href="https://shop.example.com/item/%d?utm=x">item</a> in your cart.</p>\n'
    text = "".join(line % (i, i) for i in range(2000))[:100 * 1024]
    with open(body, "w") as f:
        f.write("<html><body>\n" + text[:100 * 1024 - 30] + "\n</body></html>\n")
    atts = []
    for i in range(n):
        p = os.path.join(d, "att%03d.pdf" % i)
        with open(p, "wb") as f:
            f.write(b"%PDF-1.4\n" + rnd.randbytes(100 * 1024 - 9))
        atts.append(p)
    return body, atts


def cpu_children():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def in_process(body, atts, rounds):
    p = run_checked([os.path.join(BIN, "scan_bench"), SIGS, RULES, str(rounds), body] + atts, "scan_bench")
    return json.loads(p.stdout.strip().splitlines()[-1])


def start_clamd(d, port):
    conf = os.path.join(d, "clamd.conf")
    with open(conf, "w") as f:
        f.write("DatabaseDirectory %s\nTCPSocket %d\nTCPAddr 127.0.0.1\nForeground yes\n"
                "LogFile %s/clamd.log\nPidFile %s/clamd.pid\nTemporaryDirectory %s\n"
                "MaxThreads 2\n" % (SIGS, port, d, d, d))
    proc = subprocess.Popen(["clamd", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_port(port, timeout=60)
    except BenchFailure:
        proc.kill()
        proc.wait()
        raise
    return proc, conf


def clamd_pass(conf, paths, pid):
    """one clamdscan --stream over paths: (seconds, CPU seconds of clamd + clamdscan)"""
    t0, c0, d0 = time.time(), cpu_children(), proc_cpu(pid)
    p = subprocess.run(["clamdscan", "-c", conf, "--stream", "--no-summary"] + paths, capture_output=True,
                       text=True)
    secs = time.time() - t0
    cpu = cpu_children() - c0 + proc_cpu(pid) - d0
    ok = sum(1 for l in p.stdout.splitlines() if l.endswith(": OK"))
    if p.returncode != 0 or ok != len(paths):
        raise BenchFailure("clamdscan: exit %d, %d of %d OK: %s" % (p.returncode, ok, len(paths),
                                                                    (p.stdout + p.stderr)[-300:]))
    return secs, cpu


def scan(args, ports, results):
    quick = getattr(args, "quick", False)
    n, rounds = 50, (4 if quick else 20)
    d = os.path.join(WORK, "scan")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    body, atts = files(d, n)
    own_rate, own_cpu, clam_rate, clam_cpu = [], [], [], []
    for rep in range(args.reps + 1):
        r = in_process(body, atts, rounds)
        if rep > 0:
            own_rate.append(r["both"]["jobs_s"])
            own_cpu.append(r["both"]["cpu_ms_per_job"] * 1000.0)
            clam_rate.append(r["clamav"]["jobs_s"])
            clam_cpu.append(r["clamav"]["cpu_ms_per_job"] * 1000.0)
            log("  in-process run %d: both engines %.0f msg/s (%.2f CPU ms), libclamav alone %.0f msg/s"
                % (rep, own_rate[-1], own_cpu[-1] / 1000.0, clam_rate[-1]))
    proc, conf = start_clamd(d, ports["stack"])
    try:
        ctl = os.path.join(d, "control.txt")
        with open(ctl, "w") as f:
            f.write(EICAR)
        p = subprocess.run(["clamdscan", "-c", conf, "--stream", "--no-summary", ctl], capture_output=True,
                           text=True)
        if p.returncode != 1 or "FOUND" not in p.stdout:
            raise BenchFailure("clamd did not find the EICAR control: %s" % p.stdout)
        paths = []
        for a in atts:
            paths += [body, a]
        d_rate, d_cpu = [], []
        passes = max(1, rounds // 4)
        for rep in range(args.reps + 1):
            secs = cpu = 0.0
            for _ in range(passes):
                s, c = clamd_pass(conf, paths, proc.pid)
                secs, cpu = secs + s, cpu + c
            if rep > 0:
                d_rate.append(n * passes / secs)
                d_cpu.append(cpu * 1e6 / (n * passes))
                log("  clamd run %d: %d messages in %.2fs, %.0f msg/s (%.2f CPU ms)"
                    % (rep, n * passes, secs, d_rate[-1], d_cpu[-1] / 1000.0))
    finally:
        proc.terminate()
        proc.wait(30)
    s_own, s_own_cpu, s_clam, s_clam_cpu, s_d, s_d_cpu = (summary(own_rate), summary(own_cpu), summary(clam_rate),
                                                          summary(clam_cpu), summary(d_rate), summary(d_cpu))
    per_core_own = 1e6 / s_own_cpu["median"]
    per_core_clam = 1e6 / s_clam_cpu["median"]
    per_core_d = 1e6 / s_d_cpu["median"]
    ratio = round(per_core_own / per_core_d, 2)
    results["scan"] = {"message": "200 KB (100 KB HTML body + 100 KB attachment), scope all",
                       "txmail_both_msg_s": s_own, "txmail_both_cpu_us": s_own_cpu,
                       "txmail_clamav_msg_s": s_clam, "txmail_clamav_cpu_us": s_clam_cpu,
                       "clamd_msg_s": s_d, "clamd_cpu_us": s_d_cpu,
                       "per_core_txmail": round(per_core_own, 1), "per_core_txmail_clamav": round(per_core_clam, 1),
                       "per_core_clamd": round(per_core_d, 1),
                       "ratio_per_core": ratio}
    t = results.setdefault("table", [])
    t.append(("scan 200 KB, both engines, 1 thread", "%.0f msg/s" % s_own["median"],
              "%.0f-%.0f" % (s_own["min"], s_own["max"]), "%.2fx clamd/core" % ratio))
    t.append(("scan 200 KB, both engines, per CPU second", "%.0f msg/s" % per_core_own,
              "%.0f us/msg" % s_own_cpu["median"], "-"))
    t.append(("scan 200 KB, libclamav alone, 1 thread", "%.0f msg/s" % s_clam["median"],
              "%.0f-%.0f" % (s_clam["min"], s_clam["max"]), "%.0f us/msg" % s_clam_cpu["median"]))
    t.append(("scan 200 KB, clamd + clamdscan --stream", "%.0f msg/s" % s_d["median"],
              "%.0f-%.0f" % (s_d["min"], s_d["max"]), "%.0f us/msg" % s_d_cpu["median"]))
    t.append(("scan 200 KB, clamd, per CPU second", "%.0f msg/s" % per_core_d, "-", "-"))


SECTIONS = [("scan", scan)]
