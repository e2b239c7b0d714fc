"""Notification dead letters list (contract §11.2, §12, §2): the §11.2
item of every dead letter of the account, newest first, limit default 100
and at most 1000, an opaque cursor; paging to the end while notify writes
more returns every dead letter that existed at the start exactly once;
redelivered rows and other accounts' rows are never listed; bad
parameters answer 400 naming the parameter."""
import threading
from txtest import *
from txevents import *
from txmanage import *

A = new_account()
B = new_account()
t0 = now_ms()
first, last = t0 - 90000000, t0 - 1000
ev0, job0 = dead_row(A["id"], url="https://receiver.example.com/txmail", attempts=33, first=first, last=last,
                     result="connect error: Connection refused")
s, _, _, j = call(A, "GET", DEAD)
eq(s, 200, "GET dead letters")
eq(j, {"items": [{"tag": ev0["tag"], "jobId": job0, "recipientId": ev0["rid"],
                  "url": "https://receiver.example.com/txmail", "attempts": 33, "firstAttemptTs": iso(first),
                  "lastAttemptTs": iso(last), "lastResult": "connect error: Connection refused",
                  "notification": notification(ev0)}]}, "the §11.2 item, notification as it would have been posted")

# 150 more; some redelivered (not listed); B's (never listed)
want = [ev0["tag"]]
for i in range(150):
    ev, _ = dead_row(A["id"], i=i + 1, state="redelivered" if i % 10 == 0 else "dead")
    if i % 10:
        want.insert(0, ev["tag"])
for i in range(20):
    dead_row(B["id"], i=i)
s, _, _, j = call(A, "GET", DEAD)
eq((len(j["items"]), "nextCursor" in j), (100, True), "default limit 100 with a nextCursor")
eq([i["tag"] for i in j["items"]], want[:100], "newest first")
eq(len(call(A, "GET", DEAD + "?limit=1000")[3]["items"]), len(want), "limit=1000: all on one page")

stop = threading.Event()
added = []


def writer():
    n = 1000
    while not stop.is_set():
        added.append(dead_row(A["id"], i=n)[0]["tag"])
        n += 1
        time.sleep(0.01)


t = threading.Thread(target=writer)
t.start()
try:
    items, pages = list_all(A, 7, DEAD)
finally:
    stop.set()
    t.join()
tags = [i["tag"] for i in items]
eq(len(tags), len(set(tags)), "no dead letter twice")
eq([x for x in tags if x not in added], want, "every dead letter of the start once, in order")
check(len(added) > 5 and pages > 10, "dead letters written while paging (%d, %d pages)" % (len(added), pages))
eq(sorted(i["tag"] for i in list_all(B, 1000, DEAD)[0]),
   sorted(r[0] for r in sql("SELECT tag FROM webhook_delivery WHERE account_id=%s", B["id"])),
   "B lists exactly its own")
check(not set(tags) & set(i["tag"] for i in list_all(B, 1000, DEAD)[0]), "no overlap between A and B")

for query, sub, name in (("limit=0", "INVALID_VALUE", "limit"), ("limit=1001", "INVALID_VALUE", "limit"),
                         ("limit=x", "INVALID_FORMAT", "limit"), ("cursor=%%%", "INVALID_FORMAT", "cursor"),
                         ("cursor=" + forged_cursor([0]), "INVALID_FORMAT", "cursor"),
                         ("cursor=" + forged_cursor(["1"]), "INVALID_FORMAT", "cursor"),
                         ("cursor=" + forged_cursor([1, 2]), "INVALID_FORMAT", "cursor")):
    error_is(call(A, "GET", DEAD + "?" + query), 400, sub,
             "Invalid %s for %s" % ("format" if sub == "INVALID_FORMAT" else "value", name), "GET ?%s" % query)
s, h, _, _ = call(A, "DELETE", DEAD)
eq((s, h.get("allow")), (405, "GET"), "DELETE on the list: 405")
done()
