"""bench_search - the status and search endpoints of txmail-rest (contract
§12.1-§12.3) over a large message table.

Section "search": loads message rows (default 10,000,000; env
TXMAIL_BENCH_SEARCH_ROWS, or 1,000,000 with --quick) for four accounts
spread over the last 44.5 days, ten addresses per job with their job rows,
by INSERT ... SELECT from MariaDB's sequence engine in chunks (progress
shown), into daily partitions as `txmailctl db partitions` keeps them; then
measures through txmail-rest (plain HTTP, one persistent connection) p50
and p99 of: job lookups, message lookups, recipient search (45 days),
recipient-domain, sender and messageId searches, status searches (BOUNCED
in 24 h, DEFERRED over 45 days), a one-hour
time-range page, and following nextCursor. Goal: p99 < 50 ms. The EXPLAIN
plan of every search query goes into the results.

Self-checks (no figure from failed work): every request answers 200 with
what it asked for (the job's ten addresses, the message's id, items
matching the filter, a full page where the data has one), and no plan
reads the whole table (type ALL) or sorts it (Using filesort), except the
messageId search and status IN_PROGRESS (two dstate values), whose few
matching rows may be sorted.
"""
import base64
import http.client
import json
import os
import random
import statistics
import time

from bench_txmail import STACK_DIR, Stack, stack, stack_programs
from benchlib import BenchFailure, log

CHUNK = 250000
ADDRS_PER_JOB = 10
SPAN_MS = int(44.5 * 86400 * 1000)
OTHER_ACCOUNTS = (900001, 900002, 900003)
REQUESTS = 300


def connect(v):
    import pymysql
    return pymysql.connect(unix_socket=v["TXMAIL_DB_SOCKET"], user=v["TXMAIL_DB_USER"],
                           password=v["TXMAIL_DB_PASSWORD"], database="txmail", autocommit=True)


def q(c, sql, *params):
    with c.cursor() as cur:
        cur.execute(sql, params or None)
        return cur.fetchall()


def daily_partitions(c, now_ms):
    """split the first partition of message into the days of the span (as txmailctl
    db partitions keeps them ahead of time)"""
    parts = q(c, "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS "
                 "WHERE TABLE_SCHEMA='txmail' AND TABLE_NAME='message' ORDER BY PARTITION_ORDINAL_POSITION")
    first, bound = parts[0][0], parts[0][1].strip("'")
    day0 = time.strftime("%Y-%m-%d", time.gmtime((now_ms - SPAN_MS) / 1000 - 86400))
    if first == "pmax" or bound <= day0:
        return
    days, t = [], (now_ms - SPAN_MS) // 1000 - 86400
    while True:
        d = time.strftime("%Y-%m-%d", time.gmtime(t + 86400))
        if d >= bound:
            break
        days.append("PARTITION p%s VALUES LESS THAN ('%s')" % (time.strftime("%Y%m%d", time.gmtime(t)), d))
        t += 86400
    days.append("PARTITION %s VALUES LESS THAN ('%s')" % (first, bound))
    q(c, "ALTER TABLE message REORGANIZE PARTITION %s INTO (%s)" % (first, ", ".join(days)))


def load(c, rows, demo, now_ms):
    """rows message rows (ten per job) and their job rows; returns the jobs count"""
    jobs = rows // ADDRS_PER_JOB
    step = SPAN_MS // jobs
    accounts = ", ".join(str(a) for a in (demo,) + OTHER_ACCOUNTS)

    def acct(j):
        return "ELT(1 + (%s MOD 4), %s)" % (j, accounts)

    def job_id(j):
        return "LOWER(CONCAT(LPAD(HEX(%s), 8, '0'), '-b000-7000-8000-', LPAD(HEX(%s), 12, '0')))" % (j, j)

    def recv(j):
        return "(@t0 - INTERVAL ((%d - %s) * %d * 1000) MICROSECOND)" % (jobs, j, step)

    q(c, "SET time_zone = '+00:00'")
    q(c, "SET @t0 = FROM_UNIXTIME(%d.%03d)" % (now_ms // 1000, now_ms % 1000))
    addr = ",".join('{"id":"JOB#00000000#%08x","email":"u%d@bench.example"}' % (i, i) for i in range(ADDRS_PER_JOB))
    answer = ('{"meta":{"jobId":"JOB","receivedTs":"TS","state":{"type":"ACCEPTED","subType":"FULL",'
              '"phase":"PRE_PROCESS"}},"content":{"recipients":[{"mail":{"to":[%s]}}]}}' % addr)
    t0 = time.time()
    for lo in range(1, jobs + 1, CHUNK):
        hi = min(jobs, lo + CHUNK - 1)
        ts = "CONCAT(LEFT(DATE_FORMAT(%s, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f'), 23), 'Z')" % recv("seq")
        q(c, "INSERT INTO job (job_id, account_id, entry, received_at, http_status, answer, mail_from, "
             "slip, recipients) SELECT %s, %s, 'rest', %s, 200, REPLACE(REPLACE(%s, 'JOB', %s), 'TS', %s), "
             "CONCAT('Sender', seq MOD 50, '@S', seq MOD 20, '.example'), 'render,deliver', %d "
             "FROM seq_%d_to_%d" % (job_id("seq"), acct("seq"), recv("seq"), c.escape(answer), job_id("seq"),
                                    ts, ADDRS_PER_JOB, lo, hi))
    log("  search: %d job rows in %.0f s" % (jobs, time.time() - t0))
    t0 = time.time()
    j = "((seq - 1) DIV %d + 1)" % ADDRS_PER_JOB
    a = "((seq - 1) MOD %d)" % ADDRS_PER_JOB
    rid = "CONCAT(%s, '#00000000#', LPAD(LOWER(HEX(%s)), 8, '0'))" % (job_id(j), a)
    m = "seq MOD 100"
    cols = ", ".join([
        rid, "DATE(%s)" % recv(j), job_id(j), acct(j), "0", a, "'to'",
        "CONCAT('u', seq MOD 100000, '@d', seq MOD 1000, '.example')",
        "CONCAT('u', seq MOD 100000, '@d', seq MOD 1000, '.example')",
        "CONCAT('Sender', %s MOD 50, '@S', %s MOD 20, '.example')" % (j, j),
        "CONCAT('<', %s, '@bench.test>')" % rid, "'rest'", recv(j),
        "IF(%s < 99, IF(%s < 95 OR %s >= 98, 'DELIVER', 'PRE_PROCESS'), NULL)" % (m, m, m),
        "IF(%s < 98, 'FINISHED', IF(%s < 99, 'INTERMEDIATE', NULL))" % (m, m),
        "CASE WHEN %s < 90 THEN 'DELIVERED' WHEN %s < 95 THEN 'BOUNCED' WHEN %s < 98 THEN 'DROPPED' "
        "WHEN %s < 99 THEN 'DEFERRED' END" % (m, m, m, m),
        "CASE WHEN %s < 90 THEN 'OK' WHEN %s < 95 THEN 'HARD_BOUNCE' WHEN %s < 98 THEN 'SUPPRESSED' "
        "WHEN %s < 99 THEN 'SOFT_BOUNCE' END" % (m, m, m, m),
        "IF(%s < 99, %s + INTERVAL 2 SECOND, NULL)" % (m, recv(j)),
        "IF(%s < 98, %s + INTERVAL 2 SECOND, NULL)" % (m, recv(j)), "4096"])
    for lo in range(1, rows + 1, CHUNK):
        hi = min(rows, lo + CHUNK - 1)
        q(c, "INSERT INTO message (rid, rday, job_id, account_id, block_index, addr_index, kind, email, "
             "addr, mail_from, message_id, entry, received_at, last_phase, last_state, last_type, "
             "last_subtype, last_ts, final_at, size) SELECT %s FROM seq_%d_to_%d" % (cols, lo, hi))
        log("  search: %d / %d message rows (%.0f s)" % (hi, rows, time.time() - t0))
    return jobs


class Http:
    def __init__(self, port, user, password):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

    def get(self, path):
        t = time.perf_counter()
        self.conn.request("GET", path, headers={"Authorization": self.auth})
        r = self.conn.getresponse()
        data = r.read()
        ms = (time.perf_counter() - t) * 1000
        if r.status != 200:
            raise BenchFailure("GET %s: %d %s" % (path, r.status, data[:200]))
        return ms, json.loads(data)


def pct(values, p):
    s = sorted(values)
    return round(s[min(len(s) - 1, int(len(s) * p / 100.0))], 2)


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)


def explain(c, sql):
    """the EXPLAIN rows of sql (dicts), checked: an index, no whole-table read"""
    with c.cursor() as cur:
        cur.execute("EXPLAIN " + sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def search_sql(acct, now_ms, where, index, frm=None, to=None, limit=100):
    """the SELECT rest_search.c runs for these filters (for EXPLAIN)"""
    to = to or now_ms
    frm = frm or to - 86400000
    t = lambda ms: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + ".%03d" % (ms % 1000)
    d = lambda ms: time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))
    return ("SELECT rid, job_id, received_at, mail_from, email, message_id, reference, final_at, last_phase, "
            "last_state, last_type, last_subtype, last_ts FROM message FORCE INDEX (%s) WHERE account_id = %d AND rday >= '%s' "
            "AND rday <= '%s' AND received_at >= '%s' AND received_at < '%s'%s "
            "ORDER BY received_at DESC, rid DESC LIMIT %d" % (index, acct, d(frm), d(to), t(frm), t(to), where, limit + 1))


def measure(h, label, paths, check):
    """p50/p99 of GET paths (after 20 warm-up requests), check(path, doc) per answer"""
    for p in paths[:20]:
        h.get(p)
    lat = []
    for p in paths:
        ms, doc = h.get(p)
        check(p, doc)
        lat.append(ms)
    return {"requests": len(lat), "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
            "mean_ms": round(statistics.mean(lat), 2)}


def search(args, ports, results):
    """status and search endpoints over a large message table, through txmail-rest"""
    rows = int(os.environ.get("TXMAIL_BENCH_SEARCH_ROWS", "1000000" if args.quick else "10000000"))
    st = None
    try:
        st = Stack(ports)
        st.programs({name: 1 if name == "rest" else 0 for name in stack_programs()})
        v = st.vars
        c = connect(v)
        demo = q(c, "SELECT id FROM account WHERE name='demo'")[0][0]
        for t in ("event", "message", "job"):
            q(c, "TRUNCATE TABLE %s" % t)
        now_ms = int(time.time() * 1000)
        daily_partitions(c, now_ms)
        t0 = time.time()
        jobs = load(c, rows, demo, now_ms)
        q(c, "ANALYZE TABLE message, job")
        load_s = time.time() - t0
        got = q(c, "SELECT COUNT(*) FROM message")[0][0]
        if got != rows:
            raise BenchFailure("loaded %d message rows, expected %d" % (got, rows))
        out = {"rows": rows, "jobs": jobs, "accounts": 4, "load_s": round(load_s, 1),
               "load_rows_per_s": round(rows / load_s)}
        rnd = random.Random(13)
        port = int(v["TXMAIL_REST_HTTP_URL"].rsplit(":", 1)[1].strip("/"))
        h = Http(port, v["TXMAIL_DEMO_USER"], v["TXMAIL_DEMO_PASSWORD"])
        # jobs of the demo account: j MOD 4 == 0
        demo_jobs = [4 * rnd.randrange(1, jobs // 4) for _ in range(REQUESTS)]
        jid = lambda j: "%08x-b000-7000-8000-%012x" % (j, j)
        V2 = "/email/v2"

        def job_ok(p, doc):
            to = doc["content"]["recipients"][0]["mail"]["to"]
            if len(to) != ADDRS_PER_JOB or doc["meta"]["jobId"] != p.rsplit("/", 1)[1]:
                raise BenchFailure("job answer of %s: %d addresses" % (p, len(to)))
            if doc["meta"]["counts"]["total"] != ADDRS_PER_JOB:
                raise BenchFailure("job answer of %s: counts %r" % (p, doc["meta"]["counts"]))

        out["job_lookup"] = measure(h, "job", [V2 + "/jobs/" + jid(j) for j in demo_jobs], job_ok)
        rids = ["%s%%2300000000%%23%08x" % (jid(j), rnd.randrange(ADDRS_PER_JOB)) for j in demo_jobs]

        def msg_ok(p, doc):
            if doc["meta"]["id"].replace("#", "%23") != p.rsplit("/", 1)[1]:
                raise BenchFailure("message answer of %s: %r" % (p, doc["meta"]))

        out["message_lookup"] = measure(h, "message", [V2 + "/messages/" + r for r in rids], msg_ok)
        oldest = iso(now_ms - 45 * 86400000 + 3600000)

        def items_ok(field, want, exact=True):
            def ok(p, doc):
                for it in doc["items"]:
                    val = it[field].lower()
                    if (val != want(p)) if exact else (not val.endswith(want(p))):
                        raise BenchFailure("search %s: item %r does not match" % (p, it[field]))
            return ok

        def param(p, name):
            from urllib.parse import parse_qs, urlsplit
            return parse_qs(urlsplit(p).query)[name][0].lower()

        addrs = ["u%d@d%d.example" % (n, n % 1000) for n in (rnd.randrange(100000) for _ in range(REQUESTS))]
        out["recipient_search_45d"] = measure(
            h, "recipient", [V2 + "/search?recipient=%s&from=%s" % (a, oldest) for a in addrs],
            items_ok("email", lambda p: param(p, "recipient")))
        doms = ["%%40d%d.example" % rnd.randrange(1000) for _ in range(REQUESTS)]
        out["recipient_domain_search_24h"] = measure(
            h, "domain", [V2 + "/search?recipient=" + d for d in doms],
            items_ok("email", lambda p: param(p, "recipient"), exact=False))
        senders = ["sender%d%%40s%d.example" % (n, n % 20) for n in (rnd.randrange(50) for _ in range(REQUESTS))]
        out["sender_search_24h"] = measure(
            h, "sender", [V2 + "/search?sender=" + s for s in senders],
            items_ok("from", lambda p: param(p, "sender")))
        mids = ["%s%%2300000000%%23%08x%%40bench.test" % (jid(j), 0) for j in demo_jobs]

        def mid_ok(p, doc):
            if len(doc["items"]) != 1:
                raise BenchFailure("messageId search %s: %d items" % (p, len(doc["items"])))

        out["message_id_search"] = measure(h, "msgid", [V2 + "/search?messageId=" + m + "&from=" + oldest
                                                        for m in mids], mid_ok)
        def bounced_ok(p, doc):
            if not doc["items"] or any(it["lastEvent"]["type"] != "BOUNCED" for it in doc["items"]):
                raise BenchFailure("status search %s: not a page of BOUNCED items" % p)

        out["status_bounced_24h"] = measure(h, "status", [V2 + "/search?status=BOUNCED"] * REQUESTS, bounced_ok)

        def deferred_ok(p, doc):
            if not doc["items"] or any(it["lastEvent"]["type"] != "DEFERRED" for it in doc["items"]):
                raise BenchFailure("status search %s: not a page of DEFERRED items" % p)

        out["status_deferred_45d"] = measure(h, "status", [V2 + "/search?status=DEFERRED&from=" + oldest] * REQUESTS,
                                             deferred_ok)
        hours = [now_ms - rnd.randrange(2, 44 * 24) * 3600000 for _ in range(REQUESTS)]

        def sqlt(ms):
            return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + ".%03d" % (ms % 1000)

        def in_hour(t):
            return q(c, "SELECT COUNT(*) FROM message WHERE account_id=%s AND received_at >= %s "
                        "AND received_at < %s", demo, sqlt(t), sqlt(t + 3600000))[0][0]

        def page_ok(p, doc):
            from urllib.parse import parse_qs, urlsplit
            t = next(t for t in hours if iso(t) == parse_qs(urlsplit(p).query)["from"][0])
            n = in_hour(t)
            if len(doc["items"]) != min(100, n) or ("nextCursor" in doc) != (n > 100):
                raise BenchFailure("one-hour page %s: %d items of %d" % (p, len(doc["items"]), n))

        out["one_hour_page"] = measure(h, "hour", [V2 + "/search?from=%s&to=%s&limit=100" % (iso(t), iso(t + 3600000))
                                                   for t in hours], page_ok)
        # following nextCursor through one hour, 100 items a page
        lat, seen, cur = [], set(), None
        t = hours[0]
        while True:
            p = V2 + "/search?from=%s&to=%s&limit=100" % (iso(t), iso(t + 3600000)) + (
                "&cursor=" + cur if cur else "")
            ms, doc = h.get(p)
            lat.append(ms)
            for it in doc["items"]:
                if it["id"] in seen:
                    raise BenchFailure("paging: %s twice" % it["id"])
                seen.add(it["id"])
            cur = doc.get("nextCursor")
            if not cur:
                break
        want = in_hour(t)
        if len(seen) != want:
            raise BenchFailure("paging one hour: %d items, the table has %d" % (len(seen), want))
        out["cursor_pages_one_hour"] = {"pages": len(lat), "items": len(seen), "p50_ms": pct(lat, 50),
                                        "p99_ms": pct(lat, 99)}
        # the plans
        day45 = now_ms - 45 * 86400000 + 3600000
        cut = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now_ms / 1000 - 7200))
        plans = {   # the SELECT of rest_search.c with the index it names for these filters
            "time_range": search_sql(demo, now_ms, "", "message_account_received"),
            "time_range_cursor": search_sql(demo, now_ms, " AND (received_at < '%s' OR (received_at = '%s' AND "
                                            "rid < 'z'))" % (cut, cut), "message_account_received"),
            "recipient": search_sql(demo, now_ms, " AND addr = '%s'" % addrs[0], "message_account_addr", frm=day45),
            "recipient_domain": search_sql(demo, now_ms, " AND addr_domain = 'd7.example'",
                                           "message_account_addr_domain"),
            "sender": search_sql(demo, now_ms, " AND from_lc = 'sender7@s7.example'", "message_account_sender"),
            "sender_domain": search_sql(demo, now_ms, " AND from_domain = 's7.example'",
                                        "message_account_sender_domain"),
            "message_id": search_sql(demo, now_ms, " AND message_id = '<x>'", "message_msgid", frm=day45),
            "status": search_sql(demo, now_ms, " AND dstate IN ('BOUNCED')", "message_account_dstate"),
            "status_deferred_45d": search_sql(demo, now_ms, " AND dstate IN ('DEFERRED')", "message_account_dstate",
                                              frm=day45),
            "status_in_progress": search_sql(demo, now_ms, " AND dstate IN ('IN_PROGRESS', 'DEFERRED')",
                                             "message_account_dstate"),
            "status_list": search_sql(demo, now_ms, " AND dstate IN ('DELIVERED', 'BOUNCED')",
                                      "message_account_received"),
        }
        out["explain"] = {}
        for name, sql in plans.items():
            e = explain(c, sql)
            out["explain"][name] = e
            for r in e:
                if r["type"] == "ALL" or r["key"] is None or (
                        "filesort" in (r["Extra"] or "") and name not in ("message_id", "status_in_progress")):
                    raise BenchFailure("plan of %s: %r" % (name, r))
        c.close()
        results["search"] = out
        for k in ("job_lookup", "message_lookup", "recipient_search_45d", "recipient_domain_search_24h",
                  "sender_search_24h", "message_id_search", "status_bounced_24h", "status_deferred_45d", "one_hour_page",
                  "cursor_pages_one_hour"):
            results.setdefault("table", []).append(
                ("search %s (%d rows): p50 / p99" % (k, rows), "%.1f ms" % out[k]["p50_ms"],
                 "p99 %.1f ms" % out[k]["p99_ms"], "goal p99 < 50 ms"))
    finally:
        stack("down", env=st.env if st else {"TXMAIL_STACK_DIR": STACK_DIR, "TXMAIL_PORT_BASE": str(ports["stack"])})


SECTIONS = [("search", search)]
