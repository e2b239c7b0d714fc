"""txmail-report: parts and ZIP (contract §14.1, §14.4). With 3 data rows per
part, 7 rows give parts of 3, 3 and 1 rows, each with its own header row;
X-Txmail-Report-Parts and the -partNN filenames; part 4 is 404. format=zip
opens with bsdtar and 7zz: every part (entries -part01..03.csv, byte for
byte the CSV parts) or the one requested; an empty day gets one header-only
part (and a ZIP of it). A part over one 1 MiB chunk is served whole."""
import shutil
import subprocess
import tempfile
from txtest import *
from txreport import *

A = new_account()
aid = A["id"]
D = utc_day(-5)
job = job_row(aid, D + " 06:00:00.000")
rids = [message_row(aid, job, i, "r%d@example.com" % i, D + " 06:00:%02d.000" % i, D + " 07:00:00.000")
        for i in range(7)]
ctl("report", "run", "--account", A["name"], "--date", D, "--now", "--part-rows", "3")
pfx = "txmail-%s-%s" % (A["name"], D)
want = expected(aid, D)
parts = []
for p in (1, 2, 3):
    h, b = report(A, D, "?part=%d" % p)
    eq(h.get("x-txmail-report-parts"), "3", "X-Txmail-Report-Parts")
    eq(h.get("content-disposition"), 'attachment; filename="%s-part%02d.csv"' % (pfx, p), "part filename")
    check(b.startswith(HEADER), "part %d starts with the header row" % p)
    parts.append(b)
recs = [parse(b) for b in parts]
eq([len(r) - 1 for r in recs], [3, 3, 1], "parts split at 3 rows")
eq([row for r in recs for row in r[1:]], want, "the parts together are the day, in order")
h, b = report(A, D)
eq(b, parts[0], "no part: part 1")
eq(h.get("content-disposition"), 'attachment; filename="%s-part01.csv"' % pfx, "default part 1 named part01")
s, _, _, j = get(A, "/email/v2/reports/%s?part=4" % D)
eq((s, j["meta"]["state"]["subType"]), (404, "NOT_FOUND"), "part 4 of 3: 404")
s, _, _, j = get(A, "/email/v2/reports/%s?part=4&format=zip" % D)
eq(s, 404, "zip of part 4: 404")
eq(sql("SELECT `rows`, parts FROM report WHERE account_id=%s AND day=%s", aid, D), ((7, 3),), "report row")
eq(sql("SELECT part, `rows`, bytes FROM report_part WHERE account_id=%s AND day=%s ORDER BY part", aid, D),
   tuple((i + 1, [3, 3, 1][i], len(parts[i])) for i in range(3)), "report_part rows and bytes")

work = tempfile.mkdtemp()


def unpack(data, tool):
    d = tempfile.mkdtemp(dir=work)
    path = d + "/r.zip"
    open(path, "wb").write(data)
    if tool == "bsdtar":
        p = subprocess.run(["bsdtar", "-xf", path, "-C", d], capture_output=True, text=True)
    else:
        subprocess.run(["7zz", "t", path], capture_output=True, check=True)
        p = subprocess.run(["7zz", "x", "-y", "-o" + d, path], capture_output=True, text=True)
    eq(p.returncode, 0, "%s extracts the archive (%s)" % (tool, p.stderr))
    import os
    return {n: open(os.path.join(d, n), "rb").read() for n in os.listdir(d) if n != "r.zip"}


h, z = report(A, D, "?format=zip")
eq(h.get("content-type"), "application/zip", "zip Content-Type")
eq(h.get("content-disposition"), 'attachment; filename="%s.zip"' % pfx, "every part: no -partNN")
for tool in ("bsdtar", "7zz"):
    files = unpack(z, tool)
    eq(sorted(files), ["%s-part%02d.csv" % (pfx, p) for p in (1, 2, 3)], "%s: three entries" % tool)
    for p in (1, 2, 3):
        eq(files["%s-part%02d.csv" % (pfx, p)], parts[p - 1], "%s: entry %d is the CSV part" % (tool, p))
h, z2 = report(A, D, "?format=zip&part=2")
eq(h.get("content-disposition"), 'attachment; filename="%s-part02.zip"' % pfx, "one part of several: -part02.zip")
for tool in ("bsdtar", "7zz"):
    eq(unpack(z2, tool), {"%s-part02.csv" % pfx: parts[1]}, "%s: the requested part only" % tool)
h, z3 = report(A, D, "?format=zip")
eq(z3, z, "the same report gives the same archive")

# an empty day: one header-only part, also as ZIP
E0 = utc_day(-6)
rc, out, _ = ctl("report", "run", "--account", A["name"], "--date", E0, "--now")
check("rows=0 parts=1" in out, "empty day built: %s" % out.strip())
h, b = report(A, E0)
eq(b, HEADER, "header-only file")
eq((h.get("x-txmail-report-parts"), h.get("content-disposition")),
   ("1", 'attachment; filename="txmail-%s-%s.csv"' % (A["name"], E0)), "single part: no -partNN")
h, z = report(A, E0, "?format=zip")
for tool in ("bsdtar", "7zz"):
    eq(unpack(z, tool), {"txmail-%s-%s.csv" % (A["name"], E0): HEADER}, "%s: header-only entry" % tool)

# a part larger than one chunk (1 MiB) comes back whole, as CSV and as ZIP
B = new_account()
bid = B["id"]
F = utc_day(-7)
job = job_row(bid, F + " 06:00:00.000", cost_center="x" * 50)
sql("INSERT INTO message (rid, rday, job_id, account_id, block_index, addr_index, email, addr, mail_from, "
    "reference, entry, received_at, last_phase, last_state, last_type, last_subtype, last_ts, final_at, size, "
    "smtp_code) SELECT CONCAT(%s, '#00000000#', LPAD(HEX(seq), 8, '0')), %s, %s, %s, 0, seq, "
    "CONCAT('user', seq, '@example.com'), CONCAT('user', seq, '@example.com'), 'sender@example.com', "
    "REPEAT('r', 40), 'rest', %s, 'DELIVER', 'FINISHED', 'DELIVERED', 'OK', %s, %s, 1000, '250' "
    "FROM seq_0_to_5999", job, F, job, bid, F + " 06:00:00.000", F + " 07:00:00.000", F + " 07:00:00.000")
ctl("report", "run", "--account", B["name"], "--date", F, "--now")
h, b = report(B, F)
check(len(b) > 1024 * 1024, "a part over 1 MiB (%d bytes)" % len(b))
eq(sql("SELECT chunks FROM report_part WHERE account_id=%s AND day=%s", bid, F)[0][0], (len(b) + 1048575) // 1048576,
   "stored in 1 MiB chunks")
eq(int(h.get("content-length", "0")), len(b), "Content-Length is the part's size")
eq(parse(b)[1:], expected(bid, F), "6000 rows across chunks, column by column")
h, z = report(B, F, "?format=zip")
eq(list(unpack(z, "bsdtar").values()), [b], "the same bytes in the ZIP")
shutil.rmtree(work)
done()
