"""Secure Document Handling with a virus in the file flagged for
encryption: the scan stage (txmail-scan) runs before
securezip, so the job ends with PROCESS/FINISHED/DROPPED/VIRUS_DETECTED,
nothing reaches the sink (neither the message nor a password mail) and
no password job exists. Needs txmail-scan and the project's test
signatures (EICAR)."""
from dlvtest import Events
from sztest import *

need_scan()
ev = Events()
acct = sdh_account()
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
a = uniq("szv") + "@example.net"
job = submit(acct, sdh_request(acct, [[a]], flagged=EICAR))
rid = job + "#00000000#00000000"
v = ev.wait(rid, "DROPPED", "VIRUS_DETECTED", timeout=60)[0]
eq((v["phase"], v["state"]), ("PROCESS", "FINISHED"), "PROCESS/FINISHED/DROPPED/VIRUS_DETECTED")
check(v.get("description", "").startswith("INFECTED: attachments name1.txt"),
      "description names the flagged attachment: %r" % v.get("description"))
time.sleep(5)
eq(sink_for(a), [], "nothing at the sink")
eq([e["type"] for e in ev.of(rid) if e["state"] == "FINISHED"], ["DROPPED"], "no other final event")
eq(followups(job), [], "no password job")
done()
