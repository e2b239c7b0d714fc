"""Secure Document Handling, exactly once: the delivered main message's
envelope reaches txmail-deliver again (as after a kill -9 before the
ack): its rid is recorded, so it is not sent again, DELIVERED is
published again with the same tag, and the password job is asked for
again under the same job id - render processes it, deliver finds the
password mail's rid recorded: the address still has exactly one main
message and one password mail, the job one password job row. And the
copy that finds its rid delivered asks for the password mail with the
password recorded by the delivery (the one that opens the delivered ZIP),
not with its own: with the password mail's delivery record removed (as if
the first password job had not reached deliver yet) the mail sent again
carries the delivered ZIP's password."""
from dlvtest import Events
from sztest import *
from txevents import encrypt

need_scan()
ev = Events()
acct = sdh_account()
a = uniq("szo") + "@example.net"
job = submit(acct, sdh_request(acct, [[a]]))
rid = job + "#00000000#00000000"
pwjob = pw_job_id(rid)
pwrid = pwjob + "#00000000#00000000"
ev.wait(pwrid, "DELIVERED", "OK", timeout=90)
wait_until(lambda: len(sink_for(a)) >= 2, 30, "main message and password mail")
first_dl = ev.wait(rid, "DELIVERED", "OK")[0]

# the same message again, as deliver would see a redelivery of it (a copy
# made by a redelivered securezip has another password: Zz9Other99)
main0, pw0 = split_mails(a)
first_pw = password_of(pw0[0][1])
zdata = zip_of(main0[0][1], "test.zip")
raw = sink_for(a)[0][1]
data = {"entry": "rest", "receivedTs": "2026-01-01T00:00:00.000Z",
        "account": {"id": acct["id"], "name": acct["name"]},
        "senderDomain": {"id": sql("SELECT id FROM sender_domain WHERE account_id=%s", acct["id"])[0][0],
                         "domain": acct["domain"]},
        "mailFrom": "sender@" + acct["domain"], "rcpt": a, "email": a,
        "from": "Sender <sender@%s>" % acct["domain"], "mimeFrom": None, "rewriteFrom": None,
        "reference": None, "messageId": "<%s@txmail.test>" % rid, "smtputf8": False, "eightbit": False,
        "tlsEnforced": False, "relayHost": None, "started": True,
        "secureDocument": {"zip": "test.zip", "password": encrypt("Zz9Other99"),
                           "subjectPrefix": "Password for:", "subject": "Your documents"}}
publish("txmail.work", "deliver", envelope(job, ["deliver"], data, typ="message", rid=rid,
                                           account=acct["id"], raw=raw))
logf = os.path.join(E["TXMAIL_STACK_DIR"], "log", "deliver-1.log")
wait_until(lambda: sum(1 for l in open(logf, errors="replace") if rid in l and "password mail job=" + pwjob in l) >= 2,
           30, "deliver queues the same password job again")
wait_until(lambda: sum(1 for l in open(logf, errors="replace") if pwrid in l and "status=sent" in l) >= 2,
           60, "deliver sees the password mail again and reports it from its record")
time.sleep(2)
main, pw = split_mails(a)
eq((len(main), len(pw)), (1, 1), "still one main message and one password mail at the sink")
check("Zz9Other99" not in pw[0][1].get_body(("plain",)).get_content(), "the second copy's password was not sent")
eq(followups(job), [pwjob], "one password job row")
dls = ev.wait(rid, "DELIVERED", "OK", count=2)
eq({e["tag"] for e in dls}, {first_dl["tag"]}, "DELIVERED again with the same tag")
eq(len(sql("SELECT rid FROM delivery_record WHERE rid IN (%s, %s)", rid, pwrid)), 2, "one record each")

# the recorded password wins over the copy's own
sql("DELETE FROM delivery_record WHERE rid=%s", pwrid)
publish("txmail.work", "deliver", envelope(job, ["deliver"], data, typ="message", rid=rid,
                                           account=acct["id"], raw=raw))
wait_until(lambda: len(split_mails(a)[1]) >= 2, 60, "the password mail sent again")
pw_again = password_of(split_mails(a)[1][1][1])
eq(pw_again, first_pw, "the password mail has the delivered copy's password, not the redelivered copy's")
z = ZipFile(zdata)
check(z.test_7zz(pw_again), "and it opens the delivered ZIP (7zz t)")
z.close()
eq(len(split_mails(a)[0]), 1, "the main message was still sent once")
done()
