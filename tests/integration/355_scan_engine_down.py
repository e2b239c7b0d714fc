"""txmail-scan without a working engine (contract §16.1: never sent
unscanned):
- the ClamAV signature directory empty (a scanner of its own with a
  shortened scan_max_age of 25 s and 1 s retries): a job waits, retried
  (verdict=error logged again and again), nothing at the sink; past the
  maximum age every address (to and cc) gets PROCESS/FINISHED/DROPPED/
  PROCESSING_FAILED "antivirus scan unavailable", and the job is never
  delivered;
- a job submitted while the signatures are missing is delivered once the
  signatures come back (renamed into place) before its maximum age;
- the YARA rule directory with a rule that does not compile: the same
  wait, until a good rule file replaces it."""
from scantest import *
import shutil

a = av_account()
run = uniq("s355")
d = os.path.join(E["TXMAIL_STACK_DIR"], uniq("scan355"))
cdir, ydir = os.path.join(d, "clamav"), os.path.join(d, "yara")
os.makedirs(cdir)
shutil.copytree(os.path.join(REPO, "conf", "yara"), ydir)
own = own_scanner("-o", "scan_clamav_signatures=" + cdir, "-o", "scan_yara_rules=" + ydir,
                       "-o", "scan_check_interval=1s", "-o", "scan_max_age=25s", "-o", "scan_retry_schedule=1s",
                       log_name="scan-355")
wait_until(lambda: "clamav: loading %s: Can't open file or directory (jobs wait until signatures load)" % cdir
           in own.log_text(), 20, "the missing signatures logged at start")


def errors_of(job):
    return [l for l in own.log_text().splitlines() if job in l and "verdict=error" in l]


# ---------------------------------------------------------------- past the maximum age: PROCESSING_FAILED
t1, c1 = run + "-exp@example.net", run + "-expcc@example.net"
job1, rids1 = rest_job(a, [t1], cc=[c1], attachments=[("x.txt", b"clean")])
wait_until(lambda: len(errors_of(job1)) >= 3, 30, "the job retried")
check("antivirus scan unavailable: clamav: no signatures loaded" in own.log_text(), "the reason logged")
eq(sink_for(t1) + sink_for(c1), [], "nothing at the sink while no engine scans")
eq(events(rids1[0], "PROCESSING_FAILED"), [], "not failed before the maximum age")
for r in rids1:
    ev = wait_final(r, "PROCESSING_FAILED", timeout=60)
    eq((ev["phase"], ev["state"], ev["type"], ev["description"]),
       ("PROCESS", "FINISHED", "DROPPED", "antivirus scan unavailable"), "past the maximum age: PROCESSING_FAILED")
check("status=failed (antivirus scan unavailable" in own.log_text(), "logged")

# ---------------------------------------------------------------- signatures back before the maximum age
t2 = run + "-back@example.net"
job2, rids2 = rest_job(a, [t2], attachments=[("y.txt", b"clean too")])
wait_until(lambda: len(errors_of(job2)) >= 2, 30, "the job retried")
eq(sink_for(t2), [], "waiting, not delivered")
for f in os.listdir(os.path.join(REPO, "conf", "clamav")):
    shutil.copy(os.path.join(REPO, "conf", "clamav", f), os.path.join(cdir, "." + f))
    os.rename(os.path.join(cdir, "." + f), os.path.join(cdir, f))
eq(len(sink_wait(t2, timeout=30)), 1, "delivered once the signatures are back")
eq(events(rids2[0], "PROCESSING_FAILED"), [], "no failure event")
time.sleep(1)
eq(len(events(rids1[0], "PROCESSING_FAILED")), 1, "the expired job's event once")
eq(sink_for(t1), [], "the expired job never delivered")

# ---------------------------------------------------------------- a broken YARA rule set
for f in os.listdir(ydir):
    os.unlink(os.path.join(ydir, f))
with open(os.path.join(ydir, "broken.yar"), "w") as f:
    f.write("rule Broken { condition: $nothing }\n")
own.stop()
own = Program("txmail-scan", "-o", "scan_clamav_signatures=" + cdir, "-o", "scan_yara_rules=" + ydir,
              "-o", "scan_check_interval=1s", "-o", "scan_max_age=60s", "-o", "scan_retry_schedule=1s",
              log_name="scan-355b")
time.sleep(1)
t3 = run + "-yara@example.net"
job3, rids3 = rest_job(a, [t3], attachments=[("z.txt", b"clean")])
wait_until(lambda: len(errors_of(job3)) >= 2, 30, "retried without YARA rules")
check("yara: no YARA rules loaded" in own.log_text(), "the reason logged")
eq(sink_for(t3), [], "not delivered while YARA cannot scan")
shutil.copy(os.path.join(REPO, "conf", "yara", "txmail-test.yar"), os.path.join(ydir, ".good"))
os.rename(os.path.join(ydir, ".good"), os.path.join(ydir, "broken.yar"))
eq(len(sink_wait(t3, timeout=30)), 1, "delivered once the rules compile")
own.stop()
done()
