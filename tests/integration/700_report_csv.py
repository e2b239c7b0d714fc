"""txmail-report: a day of mixed outcomes (delivered, bounced, dropped, rest and
smtp, values that need RFC 4180 quoting) gives a CSV that matches the database
row by row and column by column (contract §14.1, §14.2): the 24 columns in
order, UTF-8 without BOM, CRLF, quoting of comma, quote, CR and LF only, no
formula prefixing, rows sorted by Creation Time then Usage - ID, only final
states of that UTC day (23:59:59.999 is the day, 00:00:00.000 the next one),
only the account's own rows, Meta Data - ID derived from the row. Built by
txmailctl report run --now and by the worker through the queue."""
from txtest import *
from txreport import *
from txrest import base_request

A = new_account()
B = new_account()
aid, bid = A["id"], B["id"]
sql("UPDATE account SET tenant=%s WHERE id=%s", 'Tenant, "quoted"', aid)
prov = sql("SELECT id FROM sender_domain WHERE account_id=%s", aid)[0][0]
D = utc_day(-3)
prev, nxt = utc_day(-4), utc_day(-2)

j1 = job_row(aid, D + " 08:00:00.000", reference_job="ref,comma", cost_center='cc "q"',
             campaign_id="=HYPERLINK(\"x\")")
j2 = job_row(aid, prev + " 23:00:00.000", reference_job="line\r\nbreak", cost_center="+49 -1 @sum",
             entry="smtp")
j3 = job_row(aid, D + " 10:00:00.000")
m = []
# delivered, bounced, dropped, with awkward values
m.append(message_row(aid, j1, 0, "Alice@Example.COM", D + " 08:00:00.000", D + " 08:00:05.123",
                     reference="corr,1", provisioning=prov, mail_from="Sender@Example.ORG"))
m.append(message_row(aid, j1, 1, "bob@example.net", D + " 08:00:00.000", D + " 09:10:00.000", typ="BOUNCED",
                     sub="HARD_BOUNCE", smtp="550", reference='say "hi"', provisioning=prov))
m.append(message_row(aid, j1, 2, "carol@example.com", D + " 08:00:00.000", D + " 08:00:00.001", typ="DROPPED",
                     sub="SUPPRESSED", smtp=None, size=0, reference="lf\nonly"))
# accepted the day before, final in the day: in the report, first by Creation Time
m.append(message_row(aid, j2, 0, "d\u00e9j\u00e0@b\u00fccher.example", prev + " 23:00:00.000",
                     D + " 00:00:00.000", typ="BOUNCED", sub="SOFT_BOUNCE", smtp="451", entry="smtp"))
# the day's last millisecond belongs to the day; the next day's first to the next day
m.append(message_row(aid, j3, 0, "last@example.com", D + " 10:00:00.000", D + " 23:59:59.999"))
# display names: the bare address, as submitted
m.append(message_row(aid, j3, 5, 'Dora "D, Q" <Dora@Example.NET>', D + " 11:00:00.000", D + " 12:00:00.000",
                     mail_from="Shop, Inc. <Shop@Example.ORG>"))
# a value longer than the first column buffer of db_query_each (256 bytes), early in the order:
# the rows after it are read through the grown, re-bound buffer
longaddr = "l" * 64 + "@" + ".".join(["sub%02d" % i + "x" * 12 for i in range(13)]) + ".example"
m.append(message_row(aid, j3, 6, longaddr, D + " 07:00:00.000", D + " 13:00:00.000", reference="z" * 50))
late = message_row(aid, j3, 1, "next@example.com", D + " 10:00:00.000", nxt + " 00:00:00.000")
early = message_row(aid, j3, 2, "early@example.com", prev + " 10:00:00.000", prev + " 23:59:59.999")
# not final yet: never in a report
open_ = message_row(aid, j3, 3, "open@example.com", D + " 10:00:00.000", None, typ="DEFERRED", sub="SOFT_BOUNCE")
# another account's row of the same day
jb = job_row(bid, D + " 08:00:00.000")
other = message_row(bid, jb, 0, "other@example.com", D + " 08:00:00.000", D + " 12:00:00.000")

rc, out, _ = ctl("report", "run", "--account", A["name"], "--date", D, "--now")
check("rows=7 parts=1" in out, "built: %s" % out.strip())
h, body = report(A, D)
eq(h.get("content-type"), "text/csv; charset=utf-8", "Content-Type")
eq(h.get("x-txmail-report-parts"), "1", "X-Txmail-Report-Parts")
eq(h.get("content-disposition"), 'attachment; filename="txmail-%s-%s.csv"' % (A["name"], D), "filename")
check(body.startswith(HEADER), "header row first, exact")
recs = parse(body)
eq(recs[0], COLUMNS, "the 24 columns of §14.2 in order")
want = expected(aid, D)
eq(len(recs) - 1, len(want), "one row per final recipient of the day")
for i, (got, w) in enumerate(zip(recs[1:], want)):
    for c, name in enumerate(COLUMNS):
        eq(got[c], w[c], "row %d column %s" % (i + 1, name))
ids = [r[5] for r in recs[1:]]
eq(ids[0], m[3], "accepted the day before: first")
check(m[4] in ids and late not in ids and early not in ids, "23:59:59.999 in, 00:00:00.000 of the next day out")
check(open_ not in ids and other not in ids, "not final / other account: absent")
eq([r[5] for r in recs[1:]], [m[3], m[6], m[0], m[1], m[2], m[4], m[5]], "sorted by Creation Time, then Usage - ID")
row5 = [r for r in recs[1:] if r[5] == m[5]][0]
check(len(longaddr) > 256 and [r[2] for r in recs[1:] if r[5] == m[6]] == [longaddr], "a 306-byte address whole")
eq(row5[1:5], ["Shop@Example.ORG", "Dora@Example.NET", "example.org", "example.net"], "display names dropped")
# byte-level quoting: only what needs it, quotes doubled, CR/LF inside quotes, no formula prefix
check(b'"ref,comma"' in body and b'"cc ""q"""' in body and b'"line\r\nbreak"' in body, "quoted fields")
check(b'"=HYPERLINK(""x"")"' in body, "quote doubling in a formula-like value, no prefix")
check(b",+49 -1 @sum," in body, "+, - and @ written as they are")
check(b'"Tenant, ""quoted"""' in body, "tenant quoted")
check(",Alice@Example.COM,sender@example.org,example.com," not in body.decode(), "domains lowercase only")
row0 = [r for r in recs[1:] if r[5] == m[0]][0]
eq((row0[1], row0[2], row0[3], row0[4]), ("Sender@Example.ORG", "Alice@Example.COM", "example.org", "example.com"),
   "addresses as submitted, domains lowercase")
eq(row0[15], str(prov), "Provisioning ID = sender domain id")
eq((row0[7], row0[8], row0[9], row0[10]), ("OK", "DELIVERED", "OK", "250"), "delivered")
row2 = [r for r in recs[1:] if r[5] == m[2]][0]
eq((row2[6], row2[7], row2[8], row2[9], row2[10]), ("0", "ERROR", "DROPPED", "SUPPRESSED", ""), "dropped")
eq([r[22] for r in recs[1:] if r[5] == m[3]], ["smtp"], "Entry Interface smtp")
eq(row0[23], region(), "Processing Region = processing_region")
lines = body.split(b"\r\n")
check(all(b"\n" not in l or b'"' in l for l in lines), "every line ends with CRLF")

# the other account sees its own single row, and never A's
ctl("report", "run", "--account", B["name"], "--date", D, "--now")
h, bb = report(B, D)
rb = parse(bb)
eq([r[5] for r in rb[1:]], [other], "B's report: its own row only")

# the worker builds the same bytes through the queue (txmailctl report run)
sql("DELETE FROM report WHERE account_id=%s AND day=%s", aid, D)
ctl("report", "run", "--account", A["name"], "--date", D)
wait_until(lambda: sql("SELECT 1 FROM report WHERE account_id=%s AND day=%s", aid, D), 30, "built by the worker")
h, body2 = report(A, D)
eq(body2, body, "the worker's build is byte for byte the same")

# a real job through the pipeline (rest -> render -> deliver -> recorder): its row, moved
# into the day, comes out as the recorder wrote it
pipe_to = uniq("pipe") + "@example.org"
st, hh, bb, jj = rest("POST", "/email/v2/jobs", body=base_request(A["domain"], pipe_to),
                      auth=(A["user"], A["password"]))
eq(st, 200, "pipeline job accepted (%s)" % bb[:200])
wait_until(lambda: sql("SELECT 1 FROM message WHERE account_id=%s AND final_at IS NOT NULL AND email=%s",
                       aid, pipe_to), 60, "pipeline job final")
pipe = sql("SELECT rid FROM message WHERE account_id=%s AND email=%s", aid, pipe_to)[0][0]
sql("UPDATE message SET received_at = TIMESTAMP(%s, TIME(received_at)), final_at = TIMESTAMP(%s, TIME(final_at)) "
    "WHERE rid=%s", D, D, pipe)
ctl("report", "run", "--account", A["name"], "--date", D, "--now")
h, body3 = report(A, D)
rows3 = parse(body3)[1:]
want3 = expected(aid, D)
check(pipe in [w[5] for w in want3], "the pipeline's row is in the day")
prow = [r for r in rows3 if r[5] == pipe][0]
eq((prow[1], prow[2], prow[4]), ("sender@" + A["domain"], pipe_to, "example.org"), "pipeline row: bare addresses")
eq((prow[7], prow[8], prow[9], prow[10], prow[22]), ("OK", "DELIVERED", "OK", "250", "rest"), "pipeline row: delivered")
eq(rows3, want3, "with the pipeline's row: still the database, column by column")
done()
