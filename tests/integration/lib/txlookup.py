"""txlookup - helpers for the status and search cases (tests/integration/12x,
contract §12.1-§12.3): jobs sent through txmail-rest and delivered to the
stack's sink, reads of the endpoints, the §3.4 error checks, and message
rows inserted directly (volume, paging)."""
import json
import urllib.parse

import txrest
from txevents import day, iso, new_job_id, now_ms, rid, sqltime
from txtest import eq, fail, sql, uniq, wait_until

V2 = "/email/v2"


def client(acct):
    return txrest.Client(user=acct["user"], password=acct["password"])


def get(cl, path, **params):
    q = ("?" + urllib.parse.urlencode(params)) if params else ""
    return cl.request("GET", V2 + path + q)


def job_path(job):
    return "/jobs/" + urllib.parse.quote(job, safe="")


def msg_path(r):
    return "/messages/" + urllib.parse.quote(r, safe="")


def expect_error(got, status, subtype, description, what):
    st, _, data, doc = got
    if st != status:
        fail("%s: status %r, expected %r (body %s)" % (what, st, status, data[:300]))
    eq(doc, {"meta": {"state": {"type": "REJECTED", "subType": subtype, "description": description}}},
       what + ": the §3.4 error")


def not_found(got, what, description):
    expect_error(got, 404, "NOT_FOUND", description, what)


def bad(got, subtype, param, what):
    kind = "format" if subtype == "INVALID_FORMAT" else "value"
    expect_error(got, 400, subtype, "Invalid %s for %s" % (kind, param), what)


def send(cl, acct, blocks, **job):
    """POST a job of acct: blocks = list of dicts {to: [...], cc: [...], reference: ...}."""
    req = {"subject": {"content": "lookup"}, "body": {"contentType": "text/plain", "content": "hi"},
           "recipients": [], "mail": {"from": {"email": "Sender.%s@%s" % (acct["name"], acct["domain"])}}}
    for b in blocks:
        mail = {k: [{"email": e} for e in b[k]] for k in ("to", "cc", "bcc") if b.get(k)}
        blk = {"mail": mail}
        if b.get("reference"):
            blk["reference"] = b["reference"]
        req["recipients"].append(blk)
    if job:
        req["job"] = job
    st, _, data, doc = cl.post(req)
    if st != 200:
        fail("job not accepted: %r %s" % (st, data[:300]))
    return doc


def settled(job, n):
    """wait until the n addresses of job have a final delivery state"""
    return wait_until(lambda: (lambda r: r if len(r) == n and all(x[1] for x in r) else None)(
        sql("SELECT rid, final_at FROM message WHERE job_id=%s ORDER BY rid", job)), 90,
        "the recorder has the final state of %s" % job)


def last_event(row):
    """lastEvent of (phase, state, type, subtype, ts) columns"""
    if row[0] is None:
        return None
    from txevents import ms_of
    return {"phase": row[0], "state": row[1], "type": row[2], "subType": row[3], "ts": iso(ms_of(row[4]))}


def insert_rows(account, rows):
    """Insert message rows directly: rows = list of dicts (rid, job, received ms, addr, email,
    mail_from, message_id, reference, last_type, final)."""
    vals, args = [], []
    for r in rows:
        final = r.get("final", True)
        t = r.get("last_type", "DELIVERED")
        phase = "PRE_PROCESS" if t == "DROPPED" else "DELIVER"
        state = "FINISHED" if final else "INTERMEDIATE"
        sub = {"DELIVERED": "OK", "BOUNCED": "HARD_BOUNCE", "DROPPED": "SUPPRESSED",
               "DEFERRED": "SOFT_BOUNCE"}.get(t)
        ts = sqltime(r["received"] + 500) if t else None
        vals.append("(%s, %s, %s, %s, 0, 0, 'to', %s, %s, %s, %s, %s, 'rest', %s, %s, %s, %s, %s, %s, %s)")
        args += [r["rid"], day(r["received"]).isoformat(), r["job"], account, r["email"], r["addr"],
                 r["mail_from"], r.get("reference"), r.get("message_id"), sqltime(r["received"]),
                 phase if t else None, state if t else None, t, sub if t else None, ts,
                 ts if t and final else None]
    sql("INSERT INTO message (rid, rday, job_id, account_id, block_index, addr_index, kind, email, addr, "
        "mail_from, reference, message_id, entry, received_at, last_phase, last_state, last_type, "
        "last_subtype, last_ts, final_at) VALUES " + ", ".join(vals), *args)


def page_all(cl, what, max_pages=10000, **params):
    """every item of a search, page by page: (items, pages)"""
    items, cursor, pages = [], None, 0
    while True:
        p = dict(params)
        if cursor:
            p["cursor"] = cursor
        st, _, data, doc = get(cl, "/search", **p)
        if st != 200:
            fail("%s: page %d: %r %s" % (what, pages, st, data[:300]))
        items += doc["items"]
        pages += 1
        cursor = doc.get("nextCursor")
        if not cursor or pages >= max_pages:
            return items, pages
