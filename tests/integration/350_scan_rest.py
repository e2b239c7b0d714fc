"""txmail-scan on REST jobs (contract §16.1), real engines (libclamav and
YARA with the project's signatures and rules), through the real stack:
- a clean job with attachments is delivered, and its one log line counts
  the parts and both engines' signatures;
- EICAR in an attachment: no message at the sink; every address (to and
  cc) gets PROCESS/FINISHED/DROPPED/VIRUS_DETECTED "INFECTED: attachments
  <name>" with content.antivirus naming both engines' signatures, an
  address dropped at intake keeps its intake drop only;
- EICAR inside a ZIP inside an attachment: found by libclamav (archive
  parsing), the infected attachments all named;
- the ClamAV logical signature (.ldb) of the project is found."""
from scantest import *

a = av_account()
run = uniq("s350")

# ---------------------------------------------------------------- clean: delivered
to = run + "-clean@example.net"
job, rids = rest_job(a, [to], attachments=[("report.pdf", b"%PDF-1.4 harmless " * 200), ("notes.txt", b"notes")])
m = sink_wait(to)
eq(len(m), 1, "the clean job is delivered once")
check(b"report.pdf" in m[0][1], "with its attachment")
line = wait_log(job)
check("verdict=clean" in line[0] and "parts=2" in line[0], "logged: 2 parts, clean (%s)" % line[0].strip())
check(re.search(r"clamav_signatures=[1-9]\d*, yara_rules=2", line[0]), "both engines' signature counts logged")
eq([e["subType"] for e in events(rids[0]) if e["subType"] == "VIRUS_DETECTED"], [], "no virus event")

# ---------------------------------------------------------------- EICAR in an attachment: the job is discarded
t1, c1 = run + "-v1@example.net", run + "-v1cc@example.net"
job, rids = rest_job(a, [t1, "foo@bar"], cc=[c1],
                     attachments=[("fine.txt", b"fine"), ("eicar.txt", EICAR.encode())])
for r in (rids[0], rids[2]):
    ev = wait_final(r, "VIRUS_DETECTED")
    eq((ev["phase"], ev["state"], ev["type"]), ("PROCESS", "FINISHED", "DROPPED"), "PROCESS/FINISHED/DROPPED")
    eq(ev["description"], "INFECTED: attachments eicar.txt", "the description names the attachment")
    eq(ev["notification"]["meta"]["event"]["description"], "INFECTED: attachments eicar.txt", "as notified")
    inf = infected_of(ev)
    eq(sorted((i["part"], i["engine"]) for i in inf), [("eicar.txt", "clamav"), ("eicar.txt", "yara")],
       "content.antivirus: both engines found it")
    check(any(i["signature"].startswith("Txmail.Test.EICAR") for i in inf), "ClamAV's signature named")
    check(any(i["signature"] == "YARA.Txmail_Test_EICAR" for i in inf), "the YARA rule named")
    eq(events(r, "PROCESSING_STARTED") != [], True, "the first stage's PROCESSING_STARTED before it")
time.sleep(2)
eq(sink_for(t1) + sink_for(c1), [], "nothing at the sink for an infected job")
line = wait_log(job)
check("verdict=infected" in line[0] and "eicar.txt:clamav:Txmail.Test.EICAR" in line[0], "logged with the signatures")
# the invalid address was dropped at intake: no virus event for it
eq(events(rids[1], "VIRUS_DETECTED"), [], "an address dropped at intake gets no virus event")
check(wait_until(lambda: events(rids[1], "INVALID_ADDRESS"), 20, "the intake drop"), "it keeps its intake drop")
eq(sql("SELECT last_type, final_at IS NOT NULL FROM message WHERE rid=%s", rids[0]), (("DROPPED", 1),),
   "the message row is final: DROPPED")

# ---------------------------------------------------------------- EICAR in a ZIP, two infected attachments
t2 = run + "-zip@example.net"
job, rids = rest_job(a, [t2], attachments=[("a.zip", zip_of("inner/eicar.txt", EICAR)), ("ok.txt", b"ok"),
                                            ("b.zip", zip_of("x.txt", EICAR))])
ev = wait_final(rids[0], "VIRUS_DETECTED")
eq(ev["description"], "INFECTED: attachments a.zip, b.zip", "both zipped attachments named")
check(all(i["engine"] == "clamav" for i in infected_of(ev)), "inside a ZIP only libclamav sees it (deflated)")
time.sleep(1)
eq(sink_for(t2), [], "not delivered")

# ---------------------------------------------------------------- the project's logical signature
t3 = run + "-ldb@example.net"
job, rids = rest_job(a, [t3], attachments=[("two-markers.txt", LDB.encode())])
ev = wait_final(rids[0], "VIRUS_DETECTED")
eq([(i["engine"], i["signature"]) for i in infected_of(ev)], [("clamav", "Txmail.Test.Logical-LDB.UNOFFICIAL")],
   "the .ldb signature found")
done()
