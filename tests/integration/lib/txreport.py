"""txreport - helpers for the report cases (tests/integration/70x): message
rows as the recorder writes them, the report of contract §14.2 computed
independently from the database (plain SELECTs, joined and sorted here),
and report downloads through txmail-rest."""
import csv
import datetime
import hashlib
import io
import uuid

from txtest import check, eq, rest, sql
from txevents import new_job_id, rid

COLUMNS = ["Creation Time", "Message From", "Message To", "Message From Domain", "Message To Domain",
           "Usage - ID", "Message Size", "Status", "Substatus", "Status Details", "SMTP Status Code",
           "Reference Job", "Correlation ID", "Job ID", "Cost Center", "Provisioning ID", "Tenant",
           "Technical Account ID", "Campaign ID", "Meta Data - ID", "Version",
           "Meta Data Creation Time", "Entry Interface", "Processing Region"]
HEADER = (",".join(COLUMNS) + "\r\n").encode()


def utc_day(delta_days=0):
    """'YYYY-MM-DD' of today (UTC) + delta_days."""
    d = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=delta_days)
    return d.isoformat()


def job_row(account, received, reference_job=None, cost_center=None, campaign_id=None, entry="rest"):
    job = new_job_id()
    sql("INSERT INTO job (job_id, account_id, entry, received_at, http_status, answer, mail_from, "
        "reference_job, cost_center, campaign_id, slip, recipients) "
        "VALUES (%s, %s, %s, %s, 200, '{}', 's@example.com', %s, %s, %s, 'render,deliver', 1)",
        job, account, entry, received, reference_job, cost_center, campaign_id)
    return job


def message_row(account, job, index, email, received, final_at, typ="DELIVERED", sub="OK", smtp="250",
                size=1234, mail_from="sender@example.com", reference=None, entry="rest", provisioning=None):
    """One message row in its final state (final_at None: not final yet)."""
    r = rid(job, 0, index)
    phase = "DELIVER" if typ in ("DELIVERED", "BOUNCED") else "PRE_PROCESS"
    sql("INSERT INTO message (rid, rday, job_id, account_id, block_index, addr_index, email, addr, "
        "mail_from, reference, entry, received_at, last_phase, last_state, last_type, last_subtype, "
        "last_ts, final_at, size, smtp_code, provisioning_id) VALUES (%s, DATE(%s), %s, %s, 0, %s, %s, "
        "LEFT(LOWER(%s), 254), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        r, received, job, account, index, email, email, mail_from, reference, entry, received, phase,
        "FINISHED" if final_at else "INTERMEDIATE", typ, sub, final_at or received, final_at, size, smtp,
        provisioning)
    return r


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def meta_id(account, r):
    h = bytearray(hashlib.sha256(("%d:%s" % (account, r)).encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x80
    h[8] = (h[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(h)))


def bare(a):
    """the address of "Name <a@b>" (case kept), else a itself"""
    a = (a or "").rstrip(" ")
    if a.endswith(">") and "<" in a:
        return a[a.rindex("<") + 1:-1]
    return a


def domain(a):
    return a.rsplit("@", 1)[1].split(">")[0].lower() if a and "@" in a else ""


def expected(account, day, region=None):
    """The report rows of account's day, from plain SELECTs of message, job and account."""
    start = datetime.datetime.strptime(day, "%Y-%m-%d")
    end = start + datetime.timedelta(days=1)
    name, tenant = sql("SELECT name, tenant FROM account WHERE id=%s", account)[0]
    jobs = {j[0]: j[1:] for j in sql("SELECT job_id, reference_job, cost_center, campaign_id FROM job "
                                     "WHERE account_id=%s", account)}
    msgs = sql("SELECT received_at, mail_from, email, rid, size, last_type, last_subtype, smtp_code, "
               "reference, job_id, provisioning_id, final_at, entry FROM message WHERE account_id=%s", account)
    rows = []
    region = globals()["region"]() if region is None else region
    for m in msgs:
        if m[11] is None or not (start <= m[11] < end):
            continue
        j = jobs.get(m[9], (None, None, None))
        rows.append([iso(m[0]), bare(m[1]), bare(m[2]), domain(bare(m[1])), domain(bare(m[2])), m[3], str(m[4]),
                     "OK" if m[5] == "DELIVERED" else "ERROR", m[5], m[6], m[7] or "", j[0] or "", m[8] or "",
                     m[9], j[1] or "", "" if m[10] is None else str(m[10]), tenant or "", name, j[2] or "",
                     meta_id(account, m[3]), "1", iso(m[11]), m[12], region])
    rows.sort(key=lambda r: (r[0], r[5]))
    return rows


def parse(data):
    """CSV bytes -> list of records (the header included); checks the syntax rules of §14.1."""
    check(not data.startswith(b"\xef\xbb\xbf"), "no byte-order mark")
    check(data.endswith(b"\r\n"), "ends with CRLF")
    text = data.decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


def region():
    """processing_region of the stack's configuration ("" when not set)."""
    import os
    for line in open(os.environ["TXMAIL_CONF"]):
        k, _, v = line.partition("=")
        if k.strip() == "processing_region":
            return v.strip()
    return ""


def get(acct, path):
    """GET path with acct's credentials: (status, headers, body, json)."""
    return rest("GET", path, auth=(acct["user"], acct["password"]))


def report(acct, day, query=""):
    s, h, b, j = get(acct, "/email/v2/reports/%s%s" % (day, query))
    eq(s, 200, "GET report %s%s (%s)" % (day, query, b[:200]))
    return h, b
