"""GET /email/v2/reports and /email/v2/reports/{date} (contract §14.4, §3.4):
the list (default: the last 30 days, newest first, createdTs ISO-8601 with
milliseconds), from/to; 400 INVALID_FORMAT / INVALID_VALUE naming the
parameter (from, to, date, format, part); 404 for a day not built, older than
180 days, a part that does not exist and another account's report; 401
without credentials; 405 for other methods."""
import re
from txtest import *
from txreport import *

A, B = new_account(), new_account()
days = [utc_day(-1), utc_day(-29), utc_day(-30), utc_day(-60)]
for d in days:
    ctl("report", "run", "--account", A["name"], "--date", d, "--now")
ctl("report", "run", "--account", B["name"], "--date", utc_day(-2), "--now")


def bad(path, status, subtype, desc, who=A):
    s, h, b, j = get(who, path)
    eq((s, j and j["meta"]["state"]["subType"], j and j["meta"]["state"].get("description")),
       (status, subtype, desc), "GET %s" % path)
    check(h.get("content-type", "").startswith("application/json"), "error body is JSON (%s)" % path)


s, h, b, j = get(A, "/email/v2/reports")
eq(s, 200, "list")
eq([i["date"] for i in j["items"]], [utc_day(-1), utc_day(-29)], "default: the last 30 days, newest first")
it = j["items"][0]
eq((it["rows"], it["parts"]), (0, 1), "rows and parts")
check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", it["createdTs"]) is not None, "createdTs format")
s, h, b, j = get(A, "/email/v2/reports?from=%s&to=%s" % (utc_day(-60), utc_day(-29)))
eq([i["date"] for i in j["items"]], [utc_day(-29), utc_day(-30), utc_day(-60)], "from/to inclusive")
s, h, b, j = get(A, "/email/v2/reports?from=%s" % utc_day(-30))
eq([i["date"] for i in j["items"]], [utc_day(-1), utc_day(-29), utc_day(-30)], "from alone: up to today")
s, h, b, j = get(A, "/email/v2/reports?to=%s" % utc_day(-29))
eq([i["date"] for i in j["items"]], [utc_day(-29), utc_day(-30)], "to alone: the 30 days before it")
s, h, b, j = get(B, "/email/v2/reports")
eq([i["date"] for i in j["items"]], [utc_day(-2)], "B sees only its own reports")
s, h, b, j = get(A, "/email/v2/reports?from=%s&to=%s" % (utc_day(-300), utc_day(-100)))
eq((s, j["items"]), (200, []), "nothing in range: empty list")

bad("/email/v2/reports?from=2025-13-01", 400, "INVALID_FORMAT", "Invalid format for from")
bad("/email/v2/reports?from=yesterday", 400, "INVALID_FORMAT", "Invalid format for from")
bad("/email/v2/reports?to=2025-02-30", 400, "INVALID_FORMAT", "Invalid format for to")
bad("/email/v2/reports?to=2025-06-04T00:00:00Z", 400, "INVALID_FORMAT", "Invalid format for to")
bad("/email/v2/reports?from=%s&to=%s" % (utc_day(-1), utc_day(-2)), 400, "INVALID_VALUE", "Invalid value for from")

D = utc_day(-1)
bad("/email/v2/reports/2025-6-4", 400, "INVALID_FORMAT", "Invalid format for date")
bad("/email/v2/reports/notadate", 400, "INVALID_FORMAT", "Invalid format for date")
bad("/email/v2/reports/%s?format=xls" % D, 400, "INVALID_VALUE", "Invalid value for format")
bad("/email/v2/reports/%s?format=" % D, 400, "INVALID_VALUE", "Invalid value for format")
bad("/email/v2/reports/%s?part=0" % D, 400, "INVALID_VALUE", "Invalid value for part")
bad("/email/v2/reports/%s?part=-1" % D, 400, "INVALID_VALUE", "Invalid value for part")
bad("/email/v2/reports/%s?part=one" % D, 400, "INVALID_FORMAT", "Invalid format for part")
bad("/email/v2/reports/%s?part=2" % D, 404, "NOT_FOUND", "Unknown report part")
bad("/email/v2/reports/%s?part=2&format=zip" % D, 404, "NOT_FOUND", "Unknown report part")
bad("/email/v2/reports/%s" % utc_day(-3), 404, "NOT_FOUND", "Unknown report")
bad("/email/v2/reports/%s" % utc_day(-181), 404, "NOT_FOUND", "Unknown report")
bad("/email/v2/reports/%s" % utc_day(5), 404, "NOT_FOUND", "Unknown report")
# another account's report: 404, as if it did not exist, in every format
for q in ("", "?format=zip", "?part=1"):
    bad("/email/v2/reports/%s%s" % (utc_day(-2), q), 404, "NOT_FOUND", "Unknown report")
    bad("/email/v2/reports/%s%s" % (D, q), 404, "NOT_FOUND", "Unknown report", who=B)
# success in both formats, for both accounts
for who, d in ((A, D), (B, utc_day(-2))):
    h, body = report(who, d)
    eq(body, HEADER, "empty day: header row")
    h, z = report(who, d, "?format=zip&part=1")
    check(z.startswith(b"PK\x03\x04"), "a ZIP archive")
# without credentials; other methods
for p in ("/email/v2/reports", "/email/v2/reports/%s" % D):
    s, h, b, j = rest("GET", p, auth=None)
    eq((s, j["meta"]["state"]["subType"]), (401, "UNAUTHORIZED"), "401 without credentials: %s" % p)
    s, h, b, j = rest("POST", p, auth=(A["user"], A["password"]), body={})
    eq((s, h.get("allow")), (405, "GET"), "405 with Allow: GET for POST %s" % p)
done()
