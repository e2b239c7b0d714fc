"""txmail-report's schedule: after the UTC day ends (here report_schedule_delay
0s, looked at every second) exactly one of several report processes claims the
day in report_schedule and publishes one report job per active account (not
the disabled ones); every account gets its report of yesterday, an empty one
too. A claim whose owner died before publishing (published_at NULL) is taken
over after report_claim_lease, so the day is not lost."""
from txtest import *
from txreport import *

args = ("-o", "report_schedule_interval=1s", "-o", "report_schedule_delay=0s", "-o", "report_claim_lease=2s")
Y = utc_day(-1)
A, B, C = new_account(), new_account(), new_account()
sql("UPDATE account SET disabled=1 WHERE id=%s", C["id"])
job = job_row(A["id"], Y + " 10:00:00.000")
message_row(A["id"], job, 0, "y@example.com", Y + " 10:00:00.000", Y + " 11:00:00.000")
# a case before this one may have just given the stack its report process back (or not yet)
stack("programs-up")
wait_until(lambda: all(os.path.exists(E["TXMAIL_STACK_DIR"] + f) for f in ("/run/report-1.pid", "/log/report-1.log.pid")),
           30, "the stack's txmail-report running")
one = instead_of_stack("report", *args, log_name="report-703a")
two = Program("txmail-report", *args, log_name="report-703b")
time.sleep(1.5)  # both running; yesterday is claimed already (by the stack's process at its start)
sql("DELETE FROM report_schedule WHERE day=%s", Y)
t0 = time.time()
logs_before = (len(one.log_text()), len(two.log_text()))  # after 00:00 UTC their start-up claim published Y


def reports(acct):
    return sql("SELECT `rows`, parts FROM report WHERE account_id=%s AND day=%s", acct["id"], Y)


def published():
    return sql("SELECT 1 FROM report_schedule WHERE day=%s AND published_at IS NOT NULL", Y)


# both conditions: in the first minutes after 00:00 UTC the processes' own start-up claim of
# the new yesterday may already have built A's and B's reports before the DELETE above
wait_until(lambda: reports(A) and reports(B) and published(), 30,
           "yesterday's reports of A and B built by the schedule, the day claimed again")
eq(reports(A), ((1, 1),), "A: its one row")
eq(reports(B), ((0, 1),), "B: an empty day, one header-only part")
eq(report(A, Y)[1].count(b"\r\n"), 2, "A's report served: header and one row")
row = sql("SELECT owner, published_at IS NOT NULL, accounts FROM report_schedule WHERE day=%s", Y)[0]
active = sql("SELECT COUNT(*) FROM account WHERE disabled=0")[0][0]
eq((row[1], row[2]), (1, active), "claim published for every active account")
pids = [one.pid, two.pid]
check(int(row[0].rsplit(":", 1)[1]) in pids, "owned by one of the two processes (%s)" % row[0])
time.sleep(2.5)
mark = "schedule-%s: accounts=" % Y
eq(one.log_text()[logs_before[0]:].count(mark) + two.log_text()[logs_before[1]:].count(mark), 1,
   "exactly one process published the day")
check(not reports(C), "the disabled account gets no report")

# the owner died between claim and publish: the day is taken over after the lease
sql("DELETE FROM report WHERE account_id IN (%s, %s) AND day=%s", A["id"], B["id"], Y)
sql("UPDATE report_schedule SET owner='ghost:1', claimed_at=NOW(3), published_at=NULL WHERE day=%s", Y)
t1 = time.time()
wait_until(lambda: reports(A) and reports(B), 30, "the abandoned day published by another process")
took = time.time() - t1
check(took >= 1.5, "not before the lease (%.1fs)" % took)
row = sql("SELECT owner, published_at IS NOT NULL FROM report_schedule WHERE day=%s", Y)[0]
check(row[0] != "ghost:1" and row[1] == 1, "taken over and published: %s" % (row,))
eq(reports(A), ((1, 1),), "A's report again")
check(one.alive() and two.alive(), "both processes running")
done()
