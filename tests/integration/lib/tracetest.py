"""tracetest - helpers for the Trace & Recover cases (tests/integration/39x,
contract §16.2): an account with the feature, jobs that ask for it over REST,
the kept copies in trace_store, the recovery endpoint. Trace & Recover
implies the antivirus scan, so these cases need the whole stack's slip
(scan, render, deliver, recorder, notify)."""
import json
import urllib.parse

import txrest
from txtest import BIN, check, done, eq, fail, log, os, sql, uniq, wait_until

V2 = "/email/v2"
DAY_MS = 86400000
KEEP_MS = 45 * DAY_MS


def need_stack():
    missing = [p for p in ("txmail-scan", "txmail-render", "txmail-deliver", "txmail-recorder",
                           "txmail-notify") if not os.path.exists(os.path.join(BIN, p))]
    if missing:
        fail("Trace & Recover needs %s: not built" % ", ".join(missing))


def tr_account(**kw):
    from txtest import new_account
    return new_account(settings={"features": {"traceRecover": True}}, **kw)


def client(acct):
    return txrest.Client(user=acct["user"], password=acct["password"])


def msg_path(rid):
    return V2 + "/messages/" + urllib.parse.quote(rid, safe="")


def send(cl, acct, to, body="hello", content_type="text/plain", tr=True, sender=None):
    """POST one block to the addresses to; returns the answer document"""
    req = {"subject": {"content": "trace"}, "body": {"contentType": content_type, "content": body},
           "recipients": [{"mail": {"to": [{"email": e} for e in to]}}],
           "mail": {"from": {"email": sender or ("Sender <sender@%s>" % acct["domain"])}}}
    if tr:
        req["job"] = {"options": {"traceRecover": {"active": True}}}
    st, _, data, doc = cl.post(req)
    if st != 200:
        fail("job not accepted: %r %s" % (st, data[:300]))
    return doc


def rids(ans):
    return [a["id"] for b in ans["content"]["recipients"] for a in b["mail"]["to"]]


def stored(rid, timeout=60):
    """the trace_store row of rid once written: (rday, account_id, stored_until, envelope, raw)"""
    return wait_until(lambda: (sql("SELECT rday, account_id, stored_until, envelope, raw FROM trace_store "
                                   "WHERE rid=%s", rid) or [None])[0], timeout, "kept copy of %s" % rid)


def events_of(rid, typ):
    return sql("SELECT phase, state, type, subtype, description, event_key, notification FROM event "
               "WHERE rid=%s AND type=%s ORDER BY ts, seq", rid, typ)


def recover(cl, rid, body=None, raw=None):
    """POST .../recover; returns (status, headers, data, doc)"""
    return cl.request("POST", msg_path(rid) + "/recover", body=body, raw=raw)


def expect_error(got, status, subtype, description, what):
    st, _, data, doc = got
    if st != status:
        fail("%s: status %r, expected %r (body %s)" % (what, st, status, data[:300]))
    eq(doc, {"meta": {"state": {"type": "REJECTED", "subType": subtype, "description": description}}},
       what + ": the §3.4 error")
