"""txmail-smtpd: broker or database trouble. With the broker stopped a message
is answered 451 4.3.0 and never processed later (no record, never at the
sink, even after the broker is back); with the database stopped AUTH gets
454 and a message 451; both recover on their own once the service is back."""
import threading
from txtest import *
from smtpdtest import *

q = job_queue("t404_jobs")
acct = new_account(domain=uniq("s404") + ".test")
sender = "app@" + acct["domain"]
TEMP = "451 4.3.0 Temporary failure, please retry"

c = Raw(timeout=60)
c.login(acct["user"], acct["password"])
res = transaction(c, sender, ["before@example.test"], message(sender, "before@example.test", "before"))
first = queued_id(res[-1][1])
check(first, "queued while everything is up")

# ---- broker stopped
stack("stop-broker")
lost = uniq("lost") + "@example.test"
t0 = time.time()
res = transaction(c, sender, [lost], message(sender, lost, "during the outage"))
eq(res[-1][1], TEMP, "broker down: 451 after the final dot")
check(time.time() - t0 < 15, "answered in bounded time (%.1fs)" % (time.time() - t0))
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session survives")
# our own trouble is not the client's error: more 451s than the hard error
# limit (20) do not close the session (a slow broker restart took longer)
for i in range(22):
    res = transaction(c, sender, [lost], message(sender, lost, "outage retry %d" % i))
    eq(res[-1][1], TEMP, "broker down: retry %d answered 451" % i)
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session survives 22 more 451s")
c2 = Raw(timeout=60)
c2.login(acct["user"], acct["password"])
res = transaction(c2, sender, [lost], message(sender, lost, "during the outage, new connection"))
eq(res[-1][1], TEMP, "a new connection gets 451 too")
c2.close()
# the broker may take longer than smtpd_timeout to start on a loaded
# machine: keep the session c alive meanwhile (it is what is tested below)
starter = threading.Thread(target=stack, args=("start-broker",))
starter.start()
while starter.is_alive():
    starter.join(5)
    if starter.is_alive():
        eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session stays up while the broker starts")


def accepted():
    r = transaction(c, sender, ["after@example.test"], message(sender, "after@example.test", "after"))
    return queued_id(r[-1][1])


after = wait_until(accepted, 60, "a message accepted once the broker is back", interval=1)
check(after, "the same session queues again after the broker restart")
wait_job(q, after)
time.sleep(3)
seen = jobs_seen(q)
eq(sorted(j for j in seen if seen[j][0]["account"] == acct["id"]), sorted([first, after]),
   "only the confirmed jobs are on the broker")
eq(sorted(r[0] for r in account_jobs(acct["id"])), sorted([first, after]), "only they have acceptance records")
eq(sink_for(lost), [], "the refused message never reaches the sink")

# ---- database stopped
stack("stop-db")
res = transaction(c, sender, ["dbdown@example.test"], message(sender, "dbdown@example.test", "db down"))
eq(res[-1][1], TEMP, "database down: 451")
c3 = Raw(timeout=60)
c3.ehlo()
c3.starttls()
c3.ehlo()
eq(c3.auth_plain(acct["user"], acct["password"])[1], "454 4.7.0 Temporary authentication failure",
   "database down: AUTH 454")
c3.close()
stack("start-db")
back = wait_until(lambda: queued_id(transaction(c, sender, ["dbback@example.test"],
                                                message(sender, "dbback@example.test", "db back"))[-1][1]),
                  60, "a message accepted once the database is back", interval=1)
check(back, "queued again after the database restart")
eq(job_row(back)["answer"], "250 2.0.0 Ok: queued as " + back, "its record")
c.close()
delete_queue(q)
done()
