"""bench_report - the "report" section of make bench (see bench/run): the
daily report of one account with 1,000,000 final recipients in one UTC day
(--quick: 100,000; TXMAIL_BENCH_REPORT_ROWS=N sets any size), built by
txmail's report code (lib/global/report, run in-process by
"txmailctl report run --now", the same code txmail-report runs) side by side
with MariaDB writing the same 24 columns, sorted the same way, with
SELECT ... INTO OUTFILE (the physical anchor) in the same run.

Figures: rows/s of each (median of --reps runs), the ratio txmail/anchor
(goal >= 0.5x) and the peak RSS of the building process (ru_maxrss, goal
< 100 MB). Checked: the report has every row, parts of 100,000 rows each
with its header, and the anchor's file every row; otherwise the section
fails without figures.
"""
import os
import subprocess
import time

from benchlib import WORK, BenchFailure, log, run_checked, sql, summary
from bench_txmail import STACK_DIR, Stack, stack

ANCHOR_SQL = r"""
SELECT CONCAT(DATE_FORMAT(m.received_at, '%%Y-%%m-%%dT%%H:%%i:%%s.'), LPAD(MICROSECOND(m.received_at) DIV 1000, 3, '0'), 'Z'),
 m.mail_from, m.email, LOWER(SUBSTRING_INDEX(m.mail_from, '@', -1)), LOWER(SUBSTRING_INDEX(m.email, '@', -1)),
 m.rid, m.size, IF(m.last_type = 'DELIVERED', 'OK', 'ERROR'), m.last_type, m.last_subtype, m.smtp_code,
 j.reference_job, m.reference, m.job_id, j.cost_center, m.provisioning_id, a.tenant, a.name, j.campaign_id,
 SHA2(CONCAT(m.account_id, ':', m.rid), 256), 1,
 CONCAT(DATE_FORMAT(m.final_at, '%%Y-%%m-%%dT%%H:%%i:%%s.'), LPAD(MICROSECOND(m.final_at) DIV 1000, 3, '0'), 'Z'),
 m.entry, 'LOCAL1'
INTO OUTFILE '{path}' FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '' LINES TERMINATED BY '\r\n'
FROM message m LEFT JOIN job j ON j.job_id = m.job_id JOIN account a ON a.id = m.account_id
WHERE m.account_id = {acct} AND m.final_at >= '{day} 00:00:00.000' AND m.final_at < '{day} 00:00:00.000' + INTERVAL 1 DAY
ORDER BY m.received_at, m.rid"""


def rows_wanted(args):
    n = os.environ.get("TXMAIL_BENCH_REPORT_ROWS")
    return int(n) if n else (100000 if args.quick else 1000000)


def root_sql(q):
    p = run_checked(["mariadb", "--no-defaults", "-uroot", "--socket=%s/mariadb/run/mysqld.sock" % STACK_DIR,
                     "-N", "-B", "txmail", "-e", q], "mariadb (root)")
    return p.stdout


def load(v, n, day):
    """an account with n final recipients on day: 1000 per job, mixed outcomes, spread over the day"""
    name = "benchreport%d" % int(time.time())
    run_checked([os.path.join(v["TXMAIL_BIN"], "txmailctl"), "-c",
                 v["TXMAIL_CONF"], "account", "add", name, "--tenant", "Bench, Tenant"], "txmailctl account add")
    acct = sql(v, "SELECT id FROM account WHERE name=%s", name)[0][0]
    jobs = (n + 999) // 1000
    pre = "%08x-0000-4000-8000-" % acct  # job ids of this run's account
    t0 = time.time()
    sql(v, "INSERT INTO job (job_id, account_id, entry, received_at, http_status, answer, mail_from, reference_job, "
        "cost_center, campaign_id, slip, recipients) SELECT CONCAT(%s, LPAD(seq, 12, '0')), "
        "%s, 'rest', %s, 200, '{}', 'shop@example.com', CONCAT('order,', seq), 'cc-7', 'spring \"sale\"', "
        "'render,deliver', 1000 FROM seq_1_to_" + str(jobs), pre, acct, day + " 00:00:00.000")
    sql(v, "INSERT INTO message (rid, rday, job_id, account_id, block_index, addr_index, email, addr, mail_from, "
        "reference, entry, received_at, last_phase, last_state, last_type, last_subtype, last_ts, final_at, size, "
        "smtp_code, provisioning_id) SELECT CONCAT(%s, LPAD(seq DIV 1000 + 1, 12, '0'), "
        "'#00000000#', LPAD(HEX(seq MOD 1000), 8, '0')), %s, "
        "CONCAT(%s, LPAD(seq DIV 1000 + 1, 12, '0')), %s, 0, seq MOD 1000, "
        "CONCAT('Customer.', seq, '@Example', seq MOD 97, '.com'), CONCAT('customer.', seq, '@example', seq MOD 97, "
        "'.com'), 'shop@example.com', CONCAT('corr-', seq), 'rest', "
        "%s + INTERVAL (seq * 80) DIV 1000 SECOND, 'DELIVER', 'FINISHED', "
        "ELT(seq MOD 10 + 1, 'DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED', "
        "'DELIVERED', 'DELIVERED', 'BOUNCED', 'DROPPED'), "
        "ELT(seq MOD 10 + 1, 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'HARD_BOUNCE', 'SUPPRESSED'), "
        "%s + INTERVAL (seq * 80) DIV 1000 + 2 SECOND, %s + INTERVAL (seq * 80) DIV 1000 + 2 SECOND, "
        "20000 + seq MOD 5000, ELT(seq MOD 10 + 1, '250', '250', '250', '250', '250', '250', '250', '250', '550', "
        "NULL), 1 FROM seq_0_to_" + str(n - 1), pre, day, pre, acct, day + " 00:00:00", day + " 00:00:00", day + " 00:00:00")
    got = sql(v, "SELECT COUNT(*) FROM message WHERE account_id=%s", acct)[0][0]
    if got != n:
        raise BenchFailure("loaded %d message rows, wanted %d" % (got, n))
    log("  loaded %d message rows in %.0fs" % (n, time.time() - t0))
    return name, acct


def build(v, name, day, n):
    """txmailctl report run --now: (seconds, peak RSS KB); checks rows and parts"""
    cmd = [os.path.join(v["TXMAIL_BIN"], "txmailctl"), "-c", v["TXMAIL_CONF"], "report", "run", "--account", name,
           "--date", day, "--now"]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.time() - t0
    out, err = p.stdout.read(), p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    parts = (n + 99999) // 100000
    if p.returncode != 0 or "rows=%d parts=%d" % (n, parts) not in out:
        raise BenchFailure("report build failed (exit %d): %s %s" % (p.returncode, out.strip(), err.strip()))
    return secs, ru.ru_maxrss


def anchor(v, acct, day, n, rep):
    path = os.path.join(STACK_DIR, "mariadb", "tmp", "report-anchor-%d-%d.csv" % (os.getpid(), rep))
    if os.path.exists(path):
        os.unlink(path)
    t0 = time.time()
    root_sql(ANCHOR_SQL.replace("%%", "%").format(path=path, acct=acct, day=day))
    secs = time.time() - t0
    with open(path, "rb") as f:
        lines = sum(chunk.count(b"\r\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    os.unlink(path)
    if lines != n:
        raise BenchFailure("anchor wrote %d lines, wanted %d" % (lines, n))
    return secs


def report(args, ports, results):
    n = rows_wanted(args)
    env = {"TXMAIL_STACK_DIR": STACK_DIR, "TXMAIL_PORT_BASE": str(ports["stack"])}
    try:
        v = Stack(ports).vars
        # a day within the retention, so txmailctl builds it: 10 days ago
        day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 10 * 86400))
        name, acct = load(v, n, day)
        ours, anch, rss = [], [], []
        for rep in range(args.reps):
            secs, peak = build(v, name, day, n)
            ours.append(n / secs)
            rss.append(peak)
            a = anchor(v, acct, day, n, rep)
            anch.append(n / a)
            log("  run %d: txmail %.0f rows/s (%.1fs, peak RSS %.1f MB), anchor %.0f rows/s (%.1fs)"
                % (rep, n / secs, secs, peak / 1024.0, n / a, a))
        stored = sql(v, "SELECT `rows`, parts FROM report WHERE account_id=%s AND day=%s", acct, day)
        heads = sql(v, "SELECT COUNT(*) FROM report_chunk WHERE account_id=%s AND day=%s AND seq=0 AND "
                    "data LIKE 'Creation Time,Message From,%%'", acct, day)[0][0]
        parts = (n + 99999) // 100000
        if stored != ((n, parts),) or heads != parts:
            raise BenchFailure("stored report %s, %d parts with a header; wanted %d rows, %d parts"
                               % (stored, heads, n, parts))
        o, a = summary(ours), summary(anch)
        ratio = o["median"] / a["median"]
        peak_mb = max(rss) / 1024.0
        results["report"] = {"rows": n, "txmail_rows_per_s": o, "anchor_rows_per_s": a, "ratio": round(ratio, 2),
                             "peak_rss_kb": max(rss), "goal": {"ratio": 0.5, "rss_mb": 100},
                             "goal_met": ratio >= 0.5 and peak_mb < 100}
        results.setdefault("table", []).append(
            ("report build %d rows (peak RSS %.0f MB)" % (n, peak_mb), "%.0f rows/s" % o["median"],
             "%.0f-%.0f" % (o["min"], o["max"]), "%.2fx" % ratio))
        results["table"].append(("report anchor SELECT INTO OUTFILE", "%.0f rows/s" % a["median"],
                                 "%.0f-%.0f" % (a["min"], a["max"]), "1.00x"))
    finally:
        try:
            stack("down", env=env)
        except BenchFailure as e:
            log("  (taking the stack down: %s)" % e)


SECTIONS = [("report", report)]
