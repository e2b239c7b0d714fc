"""txmail-report: a rebuild is idempotent (same bytes, same Meta Data - IDs,
whether built in txmailctl or by the worker, also two jobs of one day at
once); a changed day keeps the ids of unchanged rows. Retention (contract
§10.6): on day D the report of D-180 is kept and served, D-181 is deleted
by the worker's retention pass and answered 404 even before. Jobs for
today or a day past the retention are refused, logged and acked."""
from txtest import *
from txreport import *

# a case before this one may have just given the stack its report process back (or not yet)
stack("programs-up")
wait_until(lambda: all(os.path.exists(E["TXMAIL_STACK_DIR"] + f) for f in ("/run/report-1.pid", "/log/report-1.log.pid")),
           30, "the stack's txmail-report running")
own = instead_of_stack("report", "-o", "report_schedule_interval=1s", log_name="report-702")
A = new_account()
aid = A["id"]
D = utc_day(-2)
job = job_row(aid, D + " 06:00:00.000", reference_job="r,1")
for i in range(5):
    message_row(aid, job, i, "r%d@example.com" % i, D + " 06:00:00.000", D + " 07:00:0%d.000" % i)
ctl("report", "run", "--account", A["name"], "--date", D, "--now", "--part-rows", "2")
first = [report(A, D, "?part=%d" % p)[1] for p in (1, 2, 3)]
ids = [r[19] for b in first for r in parse(b)[1:]]
eq(len(set(ids)), 5, "five distinct Meta Data - IDs")
ctl("report", "run", "--account", A["name"], "--date", D, "--now", "--part-rows", "2")
eq([report(A, D, "?part=%d" % p)[1] for p in (1, 2, 3)], first, "rebuild: the same bytes")


def built_count():
    return own.log_text().count("report-%d-%s: account=%d" % (aid, D.replace("-", ""), aid))


# two jobs of the same day at once through the worker (default part size: one part)
ctl("report", "run", "--account", A["name"], "--date", D, "--now")
one = report(A, D)[1]
n0 = built_count()
publish("txmail.work", "report", envelope("report-x", ["report"], {"date": D}, typ="report", account=aid))
publish("txmail.work", "report", envelope("report-y", ["report"], {"date": D}, typ="report", account=aid))
wait_until(lambda: built_count() >= n0 + 2, 30, "both jobs built")
eq(report(A, D)[1], one, "two concurrent builds: the same bytes")
eq(sql("SELECT parts, `rows` FROM report WHERE account_id=%s AND day=%s", aid, D), ((1, 5),), "one report row")
eq(sql("SELECT COUNT(*) FROM report_part WHERE account_id=%s AND day=%s", aid, D), ((1,),), "one part row")
eq([r[19] for r in parse(one)[1:]], ids, "the same Meta Data - IDs")

# a row added to the day: the others keep their ids
new = message_row(aid, job, 9, "late@example.com", D + " 06:00:00.000", D + " 09:00:00.000")
ctl("report", "run", "--account", A["name"], "--date", D, "--now")
rows = parse(report(A, D)[1])[1:]
eq(len(rows), 6, "the new row is in")
eq([r[19] for r in rows if r[5] != new], ids, "unchanged rows keep their Meta Data - IDs")
eq(rows, expected(aid, D), "and the report is the database")

# retention
old, kept = utc_day(-181), utc_day(-180)
for d in (old, kept):
    sql("INSERT INTO report (account_id, day, `rows`, parts, created_at) VALUES (%s, %s, 0, 1, NOW(3))", aid, d)
    sql("INSERT INTO report_part (account_id, day, part, `rows`, bytes, chunks) VALUES (%s, %s, 1, 0, %s, 1)",
        aid, d, len(HEADER))
    sql("INSERT INTO report_chunk (account_id, day, part, seq, data) VALUES (%s, %s, 1, 0, %s)", aid, d, HEADER)
s, _, _, j = get(A, "/email/v2/reports/%s" % old)
eq((s, j["meta"]["state"]["subType"]), (404, "NOT_FOUND"), "day 181: 404 even while stored")
wait_until(lambda: not sql("SELECT 1 FROM report WHERE account_id=%s AND day=%s UNION ALL SELECT 1 FROM report_part "
                           "WHERE account_id=%s AND day=%s UNION ALL SELECT 1 FROM report_chunk WHERE account_id=%s "
                           "AND day=%s", aid, old, aid, old, aid, old), 20,
           "the worker's retention deleted day 181 (report row first, then parts and chunks)")
for t in ("report_part", "report_chunk"):
    eq(sql("SELECT COUNT(*) FROM " + t + " WHERE account_id=%s AND day=%s", aid, old), ((0,),), "%s of day 181 gone" % t)
    eq(sql("SELECT COUNT(*) FROM " + t + " WHERE account_id=%s AND day=%s", aid, kept), ((1,),), "%s of day 180 kept" % t)
eq(report(A, kept)[1], HEADER, "day 180 still served")
s, _, _, j = get(A, "/email/v2/reports?from=%s&to=%s" % (utc_day(-200), utc_day(0)))
eq(s, 200, "list over 200 days")
eq([i["date"] for i in j["items"]], [D, kept], "listed: the day and day 180, never 181")
check("retention: before=%s, reports=" % kept in own.log_text(), "retention logged")

# refused jobs: today, past the retention, unknown account; acked, never built
for d, acct, why in ((utc_day(0), aid, "the day has not ended"), (old, aid, "the day is past the report retention"),
                     (D, 999999999, "no such account")):
    publish("txmail.work", "report", envelope("report-r", ["report"], {"date": d}, typ="report", account=acct))
    wait_until(lambda: "status=rejected (%s)" % why in own.log_text(), 20, "refused: " + why)
wait_until(lambda: queue_count("report") == 0, 20, "every job acked")
eq(sql("SELECT COUNT(*) FROM report WHERE account_id=%s AND day IN (%s, %s)", aid, utc_day(0), old), ((0,),),
   "nothing built for today or day 181")
rc, _, err = ctl("report", "run", "--account", A["name"], "--date", utc_day(0), check_rc=False)
check(rc != 0 and "has not ended" in err, "txmailctl refuses today: %s" % err.strip())
rc, _, err = ctl("report", "run", "--account", A["name"], "--date", old, "--now", check_rc=False)
check(rc != 0 and "retention" in err, "txmailctl refuses day 181: %s" % err.strip())
rc, _, err = ctl("report", "run", "--account", A["name"], "--date", "2025-02-30", check_rc=False)
check(rc != 0 and "not a date" in err, "txmailctl refuses a bad date")
rc, out, _ = ctl("report", "list", "--account", A["name"])
check(D in out and kept in out and old not in out, "txmailctl report list: %s" % out)
check(own.alive(), "the worker is still running")
done()
