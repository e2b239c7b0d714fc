"""GET /email/v2/search paging (contract §12): keyset pagination on
(receivedTs, id), newest first, followed to the end while another thread
inserts rows (newer ones, and older ones as a lagging recorder writes
them, and rows of another account): every row that existed at the first
page comes exactly once, no item twice, strictly newest first (ties on the
millisecond ordered by id); the same with a filter and limit 1000; a
cursor given to another account shows that account's rows only."""
import threading
import time

from txevents import new_job_id, now_ms, rid
from txlookup import *
from txtest import *

acct = new_account()
other = new_account(selector="s2")
cl, ocl = client(acct), client(other)
A, O = acct["id"], other["id"]
run = uniq("sp").lower()
dom = run + ".example"
now = now_ms()
N = 2500


def mk(i, received, d=dom):
    j = new_job_id()
    return {"rid": rid(j, 0, i % 3), "job": j, "received": received, "addr": "p%d@%s" % (i, d),
            "email": "p%d@%s" % (i, d), "mail_from": "s@%s" % d, "message_id": "<%s@m>" % j}


# the rows that exist before the first page: over the last 2 hours, ties in groups of 5 on one ms
base = [mk(i, now - 7200000 + (i // 5) * 2500) for i in range(N)]
for k in range(0, N, 500):
    insert_rows(A, base[k:k + 500])
insert_rows(O, [mk(i, now - 3600000 + i) for i in range(50)])
before = set(r["rid"] for r in base)

stop = threading.Event()
inserted = {"n": 0}
errors = []


def writer():
    """newer rows, older rows (late recorder) and the other account's, until stopped"""
    i = N
    try:
        while not stop.is_set():
            t = now_ms()
            batch = [mk(i, t), mk(i + 1, now - 7200000 + (i * 7919) % 7200000), mk(i + 2, t - 1000)]
            insert_rows(A, batch)
            insert_rows(O, [mk(i + 3, now - 5000000 + i)])
            i += 4
            inserted["n"] += 3
            time.sleep(0.01)
    except Exception as e:  # reported by the main thread
        errors.append(e)


def verify(items, what, subset):
    ids_ = [it["id"] for it in items]
    eq(len(ids_), len(set(ids_)), what + ": no item twice")
    missing = subset - set(ids_)
    check(not missing, what + ": every row that existed at the first page came (%d missing)" % len(missing))
    keys = [(it["receivedTs"], it["id"]) for it in items]
    check(all(keys[k] > keys[k + 1] for k in range(len(keys) - 1)), what + ": strictly newest first, ties by id")
    check(all(it["id"] not in others for it in items), what + ": no row of the other account")


others = set(r[0] for r in sql("SELECT rid FROM message WHERE account_id=%s", O))
th = threading.Thread(target=writer)
th.start()
try:
    frm = iso(now - 7300000)
    items, pages = page_all(cl, "paging, limit 97", limit=97, **{"from": frm})
    check(pages >= N // 97, "many pages (%d)" % pages)
    others = set(r[0] for r in sql("SELECT rid FROM message WHERE account_id=%s", O))
    verify(items, "limit 97 under inserts", before)
    items, pages = page_all(cl, "paging with a filter", limit=1000, recipient="@" + dom, **{"from": frm})
    others = set(r[0] for r in sql("SELECT rid FROM message WHERE account_id=%s", O))
    verify(items, "recipient @domain, limit 1000", before)
    items, pages = page_all(cl, "paging, limit 1", max_pages=300, limit=1, **{"from": frm})
    verify(items, "limit 1, first 300 pages", set())
    eq(len(items), 300, "300 pages of one")
finally:
    stop.set()
    th.join()
if errors:
    fail("writer: %r" % errors[0])
check(inserted["n"] > 30, "rows were inserted while paging (%d)" % inserted["n"])

# after the writer stopped: paging reads exactly what the table has, in the table's order
items, _ = page_all(cl, "paging, quiet", limit=333, **{"from": frm})
want = [r[0] for r in sql("SELECT rid FROM message WHERE account_id=%s AND received_at >= %s "
                          "ORDER BY received_at DESC, rid DESC", A, sqltime(now - 7300000))]
eq([it["id"] for it in items], want, "a quiet table: every row once, in (received_at, rid) order")

# a cursor handed to another account reads that account's rows only
st, _, _, doc = get(cl, "/search", limit=5, **{"from": frm})
st, _, _, odoc = get(ocl, "/search", cursor=doc["nextCursor"], limit=1000, **{"from": frm})
eq(st, 200, "another account's cursor is just keys")
check(odoc["items"] and all(it["id"] in set(r[0] for r in sql("SELECT rid FROM message WHERE account_id=%s", O))
                            for it in odoc["items"]), "only the other account's rows")
done()
