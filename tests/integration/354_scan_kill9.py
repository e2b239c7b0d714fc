"""txmail-scan killed mid-scan (kill -9): the job is never passed unscanned
and is delivered exactly once in the end.
A scanner of its own runs with the project's ClamAV signatures and a
deliberately slow YARA rule (a byte loop over the whole part: seconds on a few MB), so a
large job is still being scanned when the scanner is killed (after it
spent 0.5 s of CPU on the job): the case checks that no verdict was
logged for it before the kill. While
no scanner runs, nothing of the job reaches the sink; a new scanner then
scans it (verdict logged) and it is delivered once; an infected job killed
the same way is dropped once, never delivered."""
from scantest import *
import threading

MB = 1 << 20
a = av_account()
run = uniq("s354")
d = os.path.join(E["TXMAIL_STACK_DIR"], uniq("scan354"))
ydir = os.path.join(d, "yara")
os.makedirs(ydir)
# the slow rules alone: a YARA match stops the scan early, so the EICAR rule is left out
with open(os.path.join(ydir, "slow.yar"), "w") as f:
    for k in range(3):
        f.write("rule Txmail_Slow_354_%d { condition: for any i in (0..filesize - 8) : "
                "(uint32(i) == 0x0102030%d and uint32(i + 4) == 0x05060708) }\n" % (k, k))
args = ["-o", "scan_yara_rules=" + ydir, "-o", "scan_concurrency=1", "-o", "scan_retry_schedule=1s"]
own = own_scanner(*args, log_name="scan-354")
time.sleep(1)


def cpu(pid):
    """CPU seconds of a process"""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def killed_mid_scan(name, payload):
    """Submit, kill -9 the scanner while it scans, restart it; returns (job, rids, the new scanner)."""
    global own
    t = "%s-%s@example.net" % (run, name)
    c0 = cpu(own.pid)
    got = []
    post = threading.Thread(target=lambda: got.append(rest_job(a, [t], attachments=[(name + ".bin", payload)],
                                                               timeout=300)))
    post.start()
    # scanning: the scanner has been busy for a while (the slow rules take seconds on 12 MB)
    wait_until(lambda: cpu(own.pid) - c0 >= 0.5, 60, "the scanner busy with the job", interval=0.02)
    own.kill9()
    post.join(120)
    job, rids = got[0]
    eq([l for l in own.log_text().splitlines() if job in l and "verdict=" in l], [],
       "%s: no verdict before the kill: killed mid-scan" % name)
    time.sleep(3)
    eq(sink_for(t), [], "%s: nothing at the sink while no scanner runs" % name)
    own = Program("txmail-scan", *args, log_name="scan-354b")
    return t, job, rids


clean = os.urandom(12 * MB)
t1, job1, rids1 = killed_mid_scan("clean", clean)
eq(len(sink_wait(t1, timeout=120)), 1, "the killed clean job is scanned again and delivered")
line = wait_until(lambda: [l for l in own.log_text().splitlines() if job1 in l and "verdict=clean" in l], 60,
                  "the verdict of the retried scan")
check("parts=1" in line[0], "scanned by the new scanner: %s" % line[0])
time.sleep(3)
eq(len(sink_for(t1)), 1, "exactly one delivery")
eq(len(events(rids1[0], "PROCESSING_STARTED")), 1, "one PROCESSING_STARTED event (same tag on redelivery)")

bad = bytearray(os.urandom(12 * MB))
bad[6 * MB:6 * MB + len(EICAR)] = EICAR.encode()
own.kill9()
own = Program("txmail-scan", *args, log_name="scan-354c")
time.sleep(1)
t2, job2, rids2 = killed_mid_scan("infected", bytes(bad))
ev = wait_final(rids2[0], "VIRUS_DETECTED", timeout=120)
eq(ev["description"], "INFECTED: attachments infected.bin", "the killed infected job is dropped after the rescan")
time.sleep(3)
eq(sink_for(t2), [], "and never delivered")
eq(len(events(rids2[0], "VIRUS_DETECTED")), 1, "one VIRUS_DETECTED event")
own.stop()
done()
