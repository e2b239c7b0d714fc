"""GET /email/v2/search (contract §12.3): every filter against the
database: jobs sent through txmail-rest and delivered to the sink, plus
rows inserted directly for the states and times a live job cannot have
(bounced, dropped, deferred, in progress, days ago): time window (default
24 h, from inclusive, to exclusive), sender and recipient (case-insensitive
exact, "@domain"), messageId (with or without <>), status lists; the items
of §12.3 newest first; another account's rows never appear; bad parameters
answer 400 naming the parameter."""
from txevents import new_job_id, now_ms, rid
from txlookup import *
from txtest import *

acct = new_account()
other = new_account(selector="s2")
stack("publish-dns")
cl, ocl = client(acct), client(other)
A, O = acct["id"], other["id"]
run = uniq("sf").lower()

# live: two jobs through the stack
a1 = send(cl, acct, [{"to": ["%s-x@example.net" % run], "reference": "r1"}])
a2 = send(cl, acct, [{"to": ["%s-y@example.net" % run, "%s-Z@Example.NET" % run]}])
for a in (a1, a2):
    sink_wait(a["content"]["recipients"][0]["mail"]["to"][0]["email"])
settled(a1["meta"]["jobId"], 1)
settled(a2["meta"]["jobId"], 2)
live = [r[0] for r in sql("SELECT rid FROM message WHERE job_id IN (%s, %s)", a1["meta"]["jobId"], a2["meta"]["jobId"])]

# direct rows: states and times, in both accounts
now = now_ms()
dom = run + ".example"
rows, orows = [], []
states = [("DELIVERED", True), ("BOUNCED", True), ("DROPPED", True), ("DEFERRED", False), (None, False)]
for i, (t, final) in enumerate(states):
    j = new_job_id()
    rows.append({"rid": rid(j), "job": j, "received": now - (i + 1) * 60000, "addr": "st%d@%s" % (i, dom),
                 "email": "St%d@%s" % (i, dom.upper()), "mail_from": "Boss <Boss@%s>" % dom,
                 "message_id": "<%s@mid.%s>" % (j, dom), "reference": "ref%d" % i, "last_type": t, "final": final})
j = new_job_id()
rows.append({"rid": rid(j), "job": j, "received": now - 3 * 86400000, "addr": "old@%s" % dom, "email": "old@%s" % dom,
             "mail_from": "boss@%s" % dom, "last_type": "DELIVERED"})
insert_rows(A, rows)
j = new_job_id()
orows.append({"rid": rid(j), "job": j, "received": now - 30000, "addr": "st0@%s" % dom, "email": "st0@%s" % dom,
              "mail_from": "boss@%s" % dom, "message_id": "<%s@mid.%s>" % (j, dom), "last_type": "DELIVERED"})
insert_rows(O, orows)


def ids(got, what):
    st, _, data, doc = got
    if st != 200:
        fail("%s: %r %s" % (what, st, data[:300]))
    check("nextCursor" not in doc, what + ": one page")
    return [it["id"] for it in doc["items"]]


def db_ids(where, *args):
    return [r[0] for r in sql("SELECT rid FROM message WHERE account_id=%s AND " + where +
                              " ORDER BY received_at DESC, rid DESC", A, *args)]


recent = [r["rid"] for r in rows[:5]]
# default window: the last 24 hours, newest first (the live ones are newest)
got = ids(get(cl, "/search"), "default window")
eq(got, db_ids("received_at >= %s", sqltime(now - 86400000 - 60000)), "default: the last 24 hours, newest first")
eq(got[-5:], recent, "the 5 direct rows after the live ones, newest first; the 3-day-old one left out")
check(set(live) <= set(got[:3]), "the live addresses come first")
check(orows[0]["rid"] not in got, "another account's row never appears")

# item layout against the row
st, _, _, doc = get(cl, "/search", recipient="st0@" + dom)
r0 = rows[0]
it = doc["items"][0]
eq(it, {"id": r0["rid"], "jobId": r0["job"], "receivedTs": iso(r0["received"]), "from": r0["mail_from"],
        "email": r0["email"], "messageId": r0["message_id"], "reference": "ref0",
        "lastEvent": {"phase": "DELIVER", "state": "FINISHED", "type": "DELIVERED", "subType": "OK",
                      "ts": iso(r0["received"] + 500)}}, "item: the §12.3 keys from the row")
eq(list(it.keys()), ["id", "jobId", "receivedTs", "from", "email", "messageId", "reference", "lastEvent"], "key order")
st, _, _, doc = get(cl, "/search", recipient="st4@" + dom)
eq((doc["items"][0]["lastEvent"], doc["items"][0]["messageId"] is not None), (None, True), "lastEvent null until recorded")

# time window: from inclusive, to exclusive; days ago
eq(ids(get(cl, "/search", **{"from": iso(rows[2]["received"]), "to": iso(rows[0]["received"])}), "window"),
   [rows[1]["rid"], rows[2]["rid"]], "from inclusive, to exclusive")
eq(ids(get(cl, "/search", **{"from": iso(now - 4 * 86400000), "to": iso(now - 2 * 86400000)}), "days ago"),
   [rows[5]["rid"]], "a window days ago")
eq(ids(get(cl, "/search", **{"from": iso(now - 44 * 86400000), "recipient": "@" + dom}), "44 days"),
   [r["rid"] for r in rows], "a 44-day window")
eq(ids(get(cl, "/search", **{"from": iso(now - 4 * 86400000).replace("Z", "+02:00"), "recipient": "@" + dom}), "offset"),
   [r["rid"] for r in rows], "a numeric offset is read")

# recipient: case-insensitive exact, @domain
eq(ids(get(cl, "/search", recipient="ST1@" + dom.upper()), "recipient"), [rows[1]["rid"]], "recipient, any case")
eq(ids(get(cl, "/search", recipient="st1@" + dom[1:]), "recipient"), [], "recipient: exact, no substring")
eq(ids(get(cl, "/search", recipient="@" + dom.upper()), "domain"), recent, "recipient @domain, any case")
eq(ids(get(cl, "/search", recipient="@example.net"), "live domain"), db_ids(
    "addr LIKE %s AND received_at >= %s", "%@example.net", sqltime(now - 86400000)), "live recipients @example.net")
check(set(live) <= set(ids(get(cl, "/search", recipient="@EXAMPLE.net"), "live domain")), "the live ones by domain")
z = [r for r in sql("SELECT rid FROM message WHERE addr=%s", "%s-z@example.net" % run)]
eq(ids(get(cl, "/search", recipient="%s-z@example.net" % run), "live"), [z[0][0]], "a live address submitted in mixed case")

# sender: bare address inside <>, case-insensitive, @domain
eq(ids(get(cl, "/search", sender="boss@" + dom), "sender"), recent, "sender: the bare address of 'Boss <Boss@...>'")
eq(ids(get(cl, "/search", sender="@" + dom.upper()), "sender domain"), recent, "sender @domain")
livesender = "Sender.%s@%s" % (acct["name"], acct["domain"])
eq(sorted(ids(get(cl, "/search", sender=livesender.upper()), "live sender")), sorted(live), "the live jobs' sender")
eq(ids(get(cl, "/search", sender="@" + acct["domain"], recipient="%s-x@example.net" % run), "combined"),
   [r for r in live if r.startswith(a1["meta"]["jobId"])], "sender and recipient combined")

# messageId with and without <>
mid = rows[3]["message_id"]
eq(ids(get(cl, "/search", messageId=mid), "messageId"), [rows[3]["rid"]], "messageId with <>")
eq(ids(get(cl, "/search", messageId=mid[1:-1]), "messageId"), [rows[3]["rid"]], "messageId without <>")
eq(ids(get(ocl, "/search", messageId=mid), "other"), [], "another account's messageId: nothing")
lmid = sql("SELECT message_id FROM message WHERE rid=%s", live[0])[0][0]
eq(ids(get(cl, "/search", messageId=lmid), "live messageId"), [live[0]], "a live message's Message-ID")

# status
S = lambda s: ids(get(cl, "/search", recipient="@" + dom, status=s), "status " + s)
eq(S("DELIVERED"), [rows[0]["rid"]], "DELIVERED")
eq(S("BOUNCED"), [rows[1]["rid"]], "BOUNCED")
eq(S("DROPPED"), [rows[2]["rid"]], "DROPPED")
eq(S("DEFERRED"), [rows[3]["rid"]], "DEFERRED")
eq(S("IN_PROGRESS"), [rows[3]["rid"], rows[4]["rid"]], "IN_PROGRESS: no final state (deferred included)")
eq(S("BOUNCED,DROPPED,BOUNCED"), [rows[1]["rid"], rows[2]["rid"]], "a list")
eq(S("DELIVERED,IN_PROGRESS"), [rows[0]["rid"], rows[3]["rid"], rows[4]["rid"]], "another list")
check(set(live) <= set(ids(get(cl, "/search", status="DELIVERED"), "live")), "the live ones are DELIVERED")

# limit
st, _, _, doc = get(cl, "/search", recipient="@" + dom, limit=2)
eq(([i["id"] for i in doc["items"]], "nextCursor" in doc), (recent[:2], True), "limit 2: two items and a cursor")

# bad parameters: 400 naming the parameter
for params, sub, name in [({"from": "yesterday"}, "INVALID_FORMAT", "from"),
                          ({"from": "2026-01-01"}, "INVALID_FORMAT", "from"),
                          ({"to": "x"}, "INVALID_FORMAT", "to"),
                          ({"from": iso(now - 46 * 86400000)}, "INVALID_VALUE", "from"),
                          ({"from": iso(now - 3600000), "to": iso(now - 3600000)}, "INVALID_VALUE", "to"),
                          ({"from": iso(now - 3600000), "to": iso(now - 7200000)}, "INVALID_VALUE", "to"),
                          ({"to": iso(now - 50 * 86400000)}, "INVALID_VALUE", "to"),
                          ({"status": "SENT"}, "INVALID_VALUE", "status"),
                          ({"status": "delivered"}, "INVALID_VALUE", "status"),
                          ({"status": "DELIVERED,"}, "INVALID_VALUE", "status"),
                          ({"status": ""}, "INVALID_VALUE", "status"),
                          ({"sender": ""}, "INVALID_VALUE", "sender"),
                          ({"recipient": "@"}, "INVALID_VALUE", "recipient"),
                          ({"messageId": ""}, "INVALID_VALUE", "messageId"),
                          ({"limit": "0"}, "INVALID_VALUE", "limit"),
                          ({"limit": "1001"}, "INVALID_VALUE", "limit"),
                          ({"limit": "ten"}, "INVALID_FORMAT", "limit"),
                          ({"cursor": "!!"}, "INVALID_FORMAT", "cursor"),
                          ({"cursor": "WzEsMl0"}, "INVALID_FORMAT", "cursor")]:   # [1,2]: not our keys
    bad(get(cl, "/search", **params), sub, name, "search %r" % params)
done()
