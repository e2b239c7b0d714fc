"""txmanage - helpers for the suppression and dead-letter cases
(tests/integration/130-134, 324-327): REST calls as an account, entries
and dead letters written straight into the database."""
import base64
import json
import urllib.parse

from txtest import eq, rest, sql
from txevents import event, insert_job, new_job_id, notification, now_ms, rid, sqltime

SUPP = "/email/v2/suppressions"
DEAD = "/email/v2/notifications/dead-letters"


def as_(acct):
    return (acct["user"], acct["password"])


def q(addr):
    return urllib.parse.quote(addr, safe="")


def call(acct, method, path, body=None, raw_body=None):
    return rest(method, path, body=body, raw_body=raw_body, auth=as_(acct))


def error_is(resp, status, sub, desc, what):
    eq((resp[0], resp[3]), (status, {"meta": {"state": {"type": "REJECTED", "subType": sub,
                                                        "description": desc}}}), what)


def supp_row(account, addr, typ="PREVIOUSLY_BOUNCED", created=None, expires=None, last=None,
             lifetime=None, reason=None, r=None):
    """A suppression row as the recorder writes it (times in ms; None = NULL)."""
    created = created if created is not None else now_ms()
    sql("INSERT INTO suppression (account_id, address, type, created_at, last_attempt_at, expires_at, "
        "lifetime_s, reason, rid) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        account, addr, typ, sqltime(created), sqltime(last) if last else None,
        sqltime(expires) if expires else None, lifetime, reason, r)
    return created


def list_all(acct, limit, query="", cursor=None):
    """Every page of GET /suppressions?query (or of another list path),
    from cursor on: (items, pages)."""
    items, pages = [], 0
    path = query if query.startswith("/") else SUPP + "?" + query
    while True:
        sep = "&" if "?" in path else "?"
        p = path + sep + "limit=%d" % limit + ("&cursor=" + q(cursor) if cursor else "")
        s, _, _, j = call(acct, "GET", p)
        eq(s, 200, "GET %s" % p)
        items += j["items"]
        pages += 1
        if "nextCursor" not in j:
            return items, pages
        cursor = j["nextCursor"]


def forged_cursor(keys):
    return base64.urlsafe_b64encode(json.dumps(keys).encode()).decode().rstrip("=")


def dead_row(account, url="http://127.0.0.1:9/hook", job=None, received=None, attempts=5,
             first=None, last=None, result="HTTP 503", i=0, state="dead", email=None):
    """A dead letter as txmail-notify writes it (notify_retry.c dead_rows) for a
    DELIVERED event of a new recipient of job (a job row is inserted when job is
    None). Returns (event, job)."""
    if job is None:
        job, received = insert_job(account, notification={"url": url})
    received = received or now_ms()
    ev = event(account, job, rid(job, 0, i), received, "DELIVER", "FINISHED", "DELIVERED", "OK",
               email=email or "d%d@example.com" % i, frm="s@example.com", message_id="<m%d@x>" % i)
    first = first or now_ms() - 86400000
    last = last or now_ms()
    sql("INSERT INTO webhook_delivery (account_id, tag, job_id, rid, url, state, attempts, "
        "first_attempt_at, last_attempt_at, last_result, notification, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        account, ev["tag"], job, ev["rid"], url, state, attempts, sqltime(first), sqltime(last), result,
        json.dumps(notification(ev), separators=(",", ":")), sqltime(last))
    return ev, job
