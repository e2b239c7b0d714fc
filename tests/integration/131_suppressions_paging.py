"""Suppression list paging (contract §12, §13.3): newest first, limit
default 100 and at most 1000, an opaque cursor; paging to the end while
other entries are inserted (through the API and as the recorder writes
them, also with older creation times) and deleted returns every entry that
existed at the start exactly once, in order, also for entries sharing a
creation time; the type filter pages the same way; expired entries are
never listed."""
import threading
from txtest import *
from txevents import *
from txmanage import *

A = new_account()
B = new_account()
A_ID = A["id"]
base = now_ms() - 86400000
types = ["PREVIOUSLY_BOUNCED", "TEMPORARY_SUPPRESSED", "MANUAL", "UNSUBSCRIBED"]
# 260 entries: groups of 4 share one creation time (the address breaks the tie)
rows = []
for i in range(260):
    created = base + (i // 4) * 1000
    addr = "p%03d@example.com" % i
    typ = types[i % 4]
    rows.append((created, addr, typ))
    supp_row(A_ID, addr, typ=typ, created=created, expires=now_ms() + 3600000 if typ != "MANUAL" else None)
# expired entries of every type: never listed
for i in range(12):
    supp_row(A_ID, "gone%02d@example.com" % i, typ=types[i % 4], created=base + i, expires=now_ms() - 1000)
# B's entries must never show up in A's pages
for i in range(30):
    supp_row(B["id"], "b%02d@example.com" % i, created=base + i * 500, expires=now_ms() + 3600000)
want = [a for c, a, t in sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)]

s, _, _, j = call(A, "GET", SUPP)
eq((s, len(j["items"]), "nextCursor" in j), (200, 100, True), "default limit 100 with a nextCursor")
eq([i["email"] for i in j["items"]], want[:100], "first page: the 100 newest")
eq(len(call(A, "GET", SUPP + "?limit=1000")[3]["items"]), 260, "limit=1000: all of them on one page")
eq("nextCursor" in call(A, "GET", SUPP + "?limit=260")[3], False, "no nextCursor on the last page")

# concurrent writers while a client pages with limit 7
stop = threading.Event()
written = []


def writer():
    n = 0
    while not stop.is_set():
        addr = "new%04d@example.com" % n
        if n % 3 == 0:
            # as the recorder writes them: an older creation time (a late bounce)
            supp_row(A_ID, addr, created=base + 30500 + n, expires=now_ms() + 3600000)
        else:
            st = call(A, "PUT", SUPP + "/" + q(addr))[0]
            if st != 201:
                fail("concurrent PUT answered %d" % st)
        written.append(addr)
        n += 1
        time.sleep(0.01)


t = threading.Thread(target=writer)
t.start()
try:
    got, pages = list_all(A, 7)
finally:
    stop.set()
    t.join()
emails = [i["email"] for i in got]
eq(len(emails), len(set(emails)), "no entry twice")
old = [e for e in emails if e.startswith("p")]
eq(old, want, "every entry that existed at the start, once, in order")
check(len(written) > 5, "entries were written while paging (%d, %d pages)" % (len(written), pages))
check(all(got[i]["createdTs"] >= got[i + 1]["createdTs"] for i in range(len(got) - 1)), "newest first throughout")
check(not any(e.startswith("gone") or e.startswith("b") for e in emails), "no expired entry, none of B's")

# the type filter pages the same way
for typ in types:
    items, _ = list_all(A, 9, "type=" + typ)
    eq([i["email"] for i in items if i["email"].startswith("p")],
       [a for a in want if dict((r[1], r[2]) for r in rows)[a] == typ], "type=%s: its entries in order" % typ)
    check(all(i["type"] == typ for i in items), "type=%s: only that type" % typ)

# deleting entries between pages skips nothing else
s, _, _, p1 = call(A, "GET", SUPP + "?type=PREVIOUSLY_BOUNCED&limit=10")
for i in p1["items"][5:]:
    eq(call(A, "DELETE", SUPP + "/" + q(i["email"]))[0], 204, "DELETE %s between pages" % i["email"])
rest_items = list_all(A, 1000, "type=PREVIOUSLY_BOUNCED", cursor=p1["nextCursor"])[0]
eq([i["email"] for i in p1["items"] + rest_items if i["email"].startswith("p")],
   [a for a in want if dict((r[1], r[2]) for r in rows)[a] == "PREVIOUSLY_BOUNCED"],
   "after deletes: the next pages continue where the first ended")
# a cursor of A's used by B shows B's entries only
items = list_all(B, 1000, cursor=j["nextCursor"])[0]
check(all(i["email"].startswith("b") for i in items), "A's cursor used by B: only B's entries")
done()
