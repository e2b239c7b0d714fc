"""txmail-scan killed mid-scan (kill -9): the job is never passed unscanned
and is delivered exactly once in the end.
A scanner of its own runs with the project's ClamAV signatures and a
deliberately slow YARA rule (a byte loop over the whole part: seconds on a few MB), so a
large job is certainly still being scanned when the scanner is killed:
the case checks that no verdict was logged for it before the kill. While
no scanner runs, nothing of the job reaches the sink; a new scanner then
scans it (verdict logged) and it is delivered once; an infected job killed
the same way is dropped once, never delivered."""
from scantest import *

MB = 1 << 20
a = av_account()
run = uniq("s354")
d = os.path.join(E["TXMAIL_STACK_DIR"], uniq("scan354"))
ydir = os.path.join(d, "yara")
os.makedirs(ydir)
# the slow rule alone: a YARA match stops the scan early, so the EICAR rule is left out
with open(os.path.join(ydir, "slow.yar"), "w") as f:
    f.write("rule Txmail_Slow_354 { condition: for any i in (0..filesize - 4) : (uint32(i) == 0x01020304 "
            "and uint32(i + 4) == 0x05060708) }\n")
args = ["-o", "scan_yara_rules=" + ydir, "-o", "scan_concurrency=1", "-o", "scan_retry_schedule=1s"]
own = instead_of_stack("scan", *args, log_name="scan-354")
time.sleep(1)


def killed_mid_scan(name, payload):
    """Submit, kill -9 the scanner while it scans, restart it; returns (job, rids, the new scanner)."""
    global own
    t = "%s-%s@example.net" % (run, name)
    job, rids = rest_job(a, [t], attachments=[(name + ".bin", payload)], timeout=300)
    wait_until(lambda: queue_count("scan") == 0, 30, "the job taken by the scanner")
    time.sleep(0.5)
    own.kill9()
    eq([l for l in own.log_text().splitlines() if job in l and "verdict=" in l], [],
       "%s: no verdict before the kill: killed mid-scan" % name)
    time.sleep(3)
    eq(sink_for(t), [], "%s: nothing at the sink while no scanner runs" % name)
    own = Program("txmail-scan", *args, log_name="scan-354b")
    return t, job, rids


clean = os.urandom(6 * MB)
t1, job1, rids1 = killed_mid_scan("clean", clean)
eq(len(sink_wait(t1, timeout=120)), 1, "the killed clean job is scanned again and delivered")
line = wait_until(lambda: [l for l in own.log_text().splitlines() if job1 in l and "verdict=clean" in l], 60,
                  "the verdict of the retried scan")
check("parts=1" in line[0], "scanned by the new scanner: %s" % line[0])
time.sleep(3)
eq(len(sink_for(t1)), 1, "exactly one delivery")
eq(len(events(rids1[0], "PROCESSING_STARTED")), 1, "one PROCESSING_STARTED event (same tag on redelivery)")

bad = bytearray(os.urandom(6 * MB))
bad[3 * MB:3 * MB + len(EICAR)] = EICAR.encode()
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
