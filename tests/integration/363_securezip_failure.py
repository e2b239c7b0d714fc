"""Secure Document Handling: the ZIP cannot be built (the flagged
document, 300 KB of random bytes, is over the stack's
securezip_zip_size_limit of 256 KB): every address of the job's blocks
gets PROCESS/FINISHED/DROPPED/SECURE_DOCUMENT_FAILED, nothing is sent -
the document is never sent unencrypted - and no password job exists; a
job submitted at the same time with a small document goes on (only the
failing job's blocks fail). An address dropped at intake gets no second
event."""
from dlvtest import Events
from sztest import *

need_scan()
ev = Events()
acct = sdh_account()
big = os.urandom(300 * 1024)
a1, a2, good = (uniq(p) + "@example.net" for p in ("szf1", "szf2", "szg"))
job = submit(acct, sdh_request(acct, [[a1], [a2]], flagged=big))
jobg = submit(acct, sdh_request(acct, [[good]]))
for rid in (job + "#00000000#00000000", job + "#00000001#00000001"):
    f = ev.wait(rid, "DROPPED", "SECURE_DOCUMENT_FAILED", timeout=60)[0]
    eq((f["phase"], f["state"]), ("PROCESS", "FINISHED"), "PROCESS/FINISHED/DROPPED/SECURE_DOCUMENT_FAILED")
    check(f["description"].startswith("the password-protected ZIP could not be built:")
          and "size limit" in f["description"], "description says why: " + f["description"])
wait_until(lambda: len(sink_for(good)) >= 2, 90, "the other job's main message and password mail")
time.sleep(2)
for a in (a1, a2):
    eq(sink_for(a), [], "nothing at the sink for " + a)
for rid in (job + "#00000000#00000000", job + "#00000001#00000001"):
    eq([e["subType"] for e in ev.of(rid) if e["state"] == "FINISHED"], ["SECURE_DOCUMENT_FAILED"],
       "one final event, no delivery")
eq(followups(job), [], "no password job for the failed job")
eq(len(followups(jobg)), 1, "the other job has its password job")
logf = os.path.join(E["TXMAIL_STACK_DIR"], "log", "securezip-1.log")
check(any(job in l and "status=failed" in l and "size limit" in l for l in open(logf, errors="replace")),
      "securezip logs the failed job")
done()
