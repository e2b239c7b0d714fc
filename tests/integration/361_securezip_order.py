"""Secure Document Handling: the password mail only after DELIVERED
(contract §16.3). A block whose address bounces (the sink answers 550)
never gets a password job, while the job's other block, delivered, gets
one (so the wait was long enough); an address deferred twice (451) gets
its password mail only after its main message is delivered, and no
password job exists while it is only deferred."""
from dlvtest import Events
from sztest import *

need_scan()
ev = Events()
acct = sdh_account()

# ------------------------------------------------ bounced: no password mail
ok, bad = uniq("szok") + "@example.net", "unknown-" + uniq("szb") + "@example.net"
job = submit(acct, sdh_request(acct, [[ok], [bad]]))
rid_ok, rid_bad = job + "#00000000#00000000", job + "#00000001#00000001"
b = ev.wait(rid_bad, "BOUNCED", "HARD_BOUNCE", timeout=60)[0]
ev.wait(rid_ok, "DELIVERED", "OK", timeout=60)
ok_pw = pw_job_id(rid_ok)
wait_until(lambda: ev.of(ok_pw + "#00000000#00000000") and
           [e for e in ev.of(ok_pw + "#00000000#00000000") if e["type"] == "DELIVERED"], 60,
           "the delivered block's password mail is delivered")
time.sleep(3)
eq(followups(job), [ok_pw], "only the delivered address has a password job")
eq(ev.of(pw_job_id(rid_bad) + "#00000000#00000000"), [], "no event of a password job for the bounced address")
eq(len(split_mails(ok)[1]), 1, "the delivered address has its password mail")
eq(sink_for(bad), [], "nothing at the sink for the bounced address")
eq(sql("SELECT COUNT(*) FROM job WHERE job_id=%s", pw_job_id(rid_bad))[0][0], 0, "no job row for it")

# ------------------------------------------ deferred, then delivered: after
d = "defer2-" + uniq("szd") + "@example.net"
job2 = submit(acct, sdh_request(acct, [[d]]))
rid_d = job2 + "#00000000#00000000"
ev.wait(rid_d, "DEFERRED", "SOFT_BOUNCE", timeout=60)
eq(followups(job2), [], "no password job while the main message is only deferred")
eq(sink_for(d), [], "nothing at the sink yet")
dl = ev.wait(rid_d, "DELIVERED", "OK", timeout=90)[0]
eq([e["subType"] for e in ev.of(rid_d) if e["type"] == "DEFERRED"],
   ["SOFT_BOUNCE", "SOFT_BOUNCE"], "deferred twice before the delivery")
pwrid = pw_job_id(rid_d) + "#00000000#00000000"
pdl = ev.wait(pwrid, "DELIVERED", "OK", timeout=60)[0]
check(dl["ts"] <= pdl["ts"], "password mail DELIVERED (%s) after the main DELIVERED (%s)" % (pdl["ts"], dl["ts"]))
wait_until(lambda: len(sink_for(d)) >= 2, 30, "both mails at the sink")
main, pw = split_mails(d)
eq((len(main), len(pw)), (1, 1), "one main message, one password mail")
check(arrival(pw[0][0]) > arrival(main[0][0]), "the password mail arrived after the main message")
eq(followups(job2), [pw_job_id(rid_d)], "one password job")
done()
