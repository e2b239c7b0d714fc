"""Suppression API (contract §13.3, §3.4, §2): PUT creates a MANUAL entry
(201) or replaces any entry (200), GET one and DELETE (204, then 404),
addresses compared case-insensitively after trimming, every parameter
checked (400 naming it), entries written by the recorder shown as §13.2
entries, and another account's entries are never visible nor deletable."""
from txtest import *
from txevents import *
from txmanage import *

A = new_account()
B = new_account()
t0 = now_ms()

# PUT without a body: a MANUAL entry without end, keyed by the lowercase bare address
s, _, _, j = call(A, "PUT", SUPP + "/" + q(" User.One@Example.COM "))
eq(s, 201, "PUT of a new address: 201")
created = j["createdTs"]
eq({k: v for k, v in j.items() if k != "createdTs"},
   {"email": "user.one@example.com", "type": "MANUAL", "lastAttemptTs": None, "expiresTs": None,
    "reason": None, "recipientId": None}, "the new entry")
check(created.endswith("Z") and len(created) == 24, "createdTs in the §1.2 format")
row = sql("SELECT type, expires_at, lifetime_s, reason, rid, last_attempt_at FROM suppression "
          "WHERE account_id=%s AND address=%s", A["id"], "user.one@example.com")
eq(row, (("MANUAL", None, None, None, None, None),), "the row: MANUAL, no expiry, no lifetime (never resets)")
eq(call(A, "GET", SUPP + "/" + q("USER.ONE@example.com"))[3], j, "GET finds it case-insensitively")

# PUT again with a body: 200, replaced
exp = now_ms() + 86400000
s, _, _, j2 = call(A, "PUT", SUPP + "/" + q("user.one@example.com"),
                   body={"reason": "customer asked, \"twice\"", "expiresTs": iso(exp), "other": 1})
eq(s, 200, "PUT over an existing entry: 200")
eq((j2["type"], j2["reason"], j2["expiresTs"], j2["email"]),
   ("MANUAL", "customer asked, \"twice\"", iso(exp), "user.one@example.com"), "the replaced entry")
eq(call(A, "GET", SUPP + "/" + q("user.one@example.com"))[3], j2, "GET answers the replaced entry")
# an expiresTs with an offset is the same instant
s, _, _, j3 = call(A, "PUT", SUPP + "/" + q("offset@example.com"), body={"expiresTs": "2999-01-01T02:00:00.000+02:00"})
eq((s, j3["expiresTs"]), (201, "2999-01-01T00:00:00.000Z"), "expiresTs with an offset")

# a PREVIOUSLY_BOUNCED entry as the recorder writes it, shown as §13.2 says
r0 = rid(new_job_id())
c0 = supp_row(A["id"], "bounced@example.org", created=t0 - 7200000, expires=t0 + 86400000, last=t0 - 3600000,
              lifetime=45 * 86400, reason="[5.1.1] bounced (550 5.1.1 user unknown)", r=r0)
eq(call(A, "GET", SUPP + "/" + q("Bounced@Example.org"))[3],
   {"email": "bounced@example.org", "type": "PREVIOUSLY_BOUNCED", "createdTs": iso(c0),
    "lastAttemptTs": iso(t0 - 3600000), "expiresTs": iso(t0 + 86400000),
    "reason": "[5.1.1] bounced (550 5.1.1 user unknown)", "recipientId": r0}, "a recorder entry as §13.2")
# PUT replaces an entry of any type: now MANUAL, the bounce's reason and rid gone
s, _, _, j4 = call(A, "PUT", SUPP + "/" + q("bounced@example.org"), body={"reason": None, "expiresTs": None})
eq((s, j4["type"], j4["reason"], j4["recipientId"], j4["expiresTs"]), (200, "MANUAL", None, None, None),
   "PUT over a PREVIOUSLY_BOUNCED entry replaces it")
eq(sql("SELECT lifetime_s, rid FROM suppression WHERE account_id=%s AND address='bounced@example.org'", A["id"]),
   ((None, None),), "no lifetime, no recipient id left")

# ---- bad parameters: 400 naming the parameter
for bad in ("not-an-address", "a@b", "two@@example.com", "x" * 250 + "@example.com", "Name <n@example.com>"):
    for m in ("GET", "PUT", "DELETE"):
        error_is(call(A, m, SUPP + "/" + q(bad)), 400, "INVALID_FORMAT", "Invalid format for address",
                 "%s %r" % (m, bad[:30]))
p = SUPP + "/" + q("body@example.com")
for raw in (b"{", b"[1]", b"\"x\"", b"{\"reason\":\"\xff\"}", b"{\"a\":1,\"a\":2}"):
    r = call(A, "PUT", p, raw_body=raw)
    eq((r[0], r[3]["meta"]["state"]["subType"]), (400, "INVALID_JSON_SYNTAX"), "PUT body %r" % raw)
error_is(call(A, "PUT", p, body={"expiresTs": iso(now_ms() - 1000)}), 400, "INVALID_VALUE",
         "Invalid value for expiresTs", "expiresTs in the past")
for bad in ("tomorrow", "2030-01-01", 12345):
    error_is(call(A, "PUT", p, body={"expiresTs": bad}), 400, "INVALID_FORMAT", "Invalid format for expiresTs",
             "expiresTs %r" % bad)
for bad in (5, ["x"], "r" * 1001):
    error_is(call(A, "PUT", p, body={"reason": bad}), 400, "INVALID_VALUE", "Invalid value for reason",
             "reason %r" % str(bad)[:20])
eq(call(A, "PUT", p, body={"reason": "é" * 1000})[0], 201, "a reason of 1000 characters (2000 bytes) is fine")
eq(sql("SELECT COUNT(*) FROM suppression WHERE account_id=%s AND address='body@example.com'", A["id"])[0][0], 1,
   "the refused PUTs wrote nothing, the good one one row")
for query, sub, name in (("type=BOUNCED", "INVALID_VALUE", "type"), ("type=", "INVALID_VALUE", "type"),
                         ("limit=0", "INVALID_VALUE", "limit"), ("limit=1001", "INVALID_VALUE", "limit"),
                         ("limit=abc", "INVALID_FORMAT", "limit"), ("cursor=%%%", "INVALID_FORMAT", "cursor"),
                         ("cursor=" + forged_cursor([1]), "INVALID_FORMAT", "cursor"),
                         ("cursor=" + forged_cursor(["x", "y"]), "INVALID_FORMAT", "cursor"),
                         ("cursor=" + forged_cursor({"a": 1}), "INVALID_FORMAT", "cursor")):
    error_is(call(A, "GET", SUPP + "?" + query), 400, sub,
             "Invalid %s for %s" % ("format" if sub == "INVALID_FORMAT" else "value", name), "GET ?%s" % query)

# ---- tenancy: B sees none of A's entries and cannot delete them
for addr in ("user.one@example.com", "bounced@example.org"):
    error_is(call(B, "GET", SUPP + "/" + q(addr)), 404, "NOT_FOUND", "Address not on the suppression list",
             "B: GET of A's %s" % addr)
    error_is(call(B, "DELETE", SUPP + "/" + q(addr)), 404, "NOT_FOUND", "Address not on the suppression list",
             "B: DELETE of A's %s" % addr)
eq(call(B, "GET", SUPP)[3], {"items": []}, "B's list is empty")
eq(call(B, "PUT", SUPP + "/" + q("user.one@example.com"))[0], 201, "B's own entry for the same address: created")
eq(call(A, "GET", SUPP + "/" + q("user.one@example.com"))[3], j2, "A's entry unchanged by B")
items = call(A, "GET", SUPP)[3]["items"]
eq(sorted(i["email"] for i in items),
   sorted(["user.one@example.com", "offset@example.com", "bounced@example.org", "body@example.com"]),
   "A's list: its four entries")
eq([i["email"] for i in call(B, "GET", SUPP)[3]["items"]], ["user.one@example.com"], "B's list: its one entry")
check(all(items[i]["createdTs"] >= items[i + 1]["createdTs"] for i in range(len(items) - 1)), "newest first")
eq([i["email"] for i in call(A, "GET", SUPP + "?type=MANUAL&limit=1000")[3]["items"]], [i["email"] for i in items],
   "type=MANUAL: all four are MANUAL now")
eq(call(A, "GET", SUPP + "?type=UNSUBSCRIBED")[3], {"items": []}, "type=UNSUBSCRIBED: none")

# ---- DELETE
s, h, body, _ = call(A, "DELETE", SUPP + "/" + q("USER.ONE@example.com"))
eq((s, body), (204, b""), "DELETE: 204 without body")
error_is(call(A, "GET", SUPP + "/" + q("user.one@example.com")), 404, "NOT_FOUND",
         "Address not on the suppression list", "GET after DELETE")
error_is(call(A, "DELETE", SUPP + "/" + q("user.one@example.com")), 404, "NOT_FOUND",
         "Address not on the suppression list", "DELETE again")
eq(call(B, "GET", SUPP + "/" + q("user.one@example.com"))[0], 200, "B's entry untouched by A's DELETE")

# ---- methods
s, h, _, j = call(A, "POST", SUPP + "/" + q("x@example.com"))
eq((s, h.get("allow")), (405, "GET, PUT, DELETE"), "POST on an entry: 405 with Allow")
done()
