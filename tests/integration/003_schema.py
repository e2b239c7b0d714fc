"""Schema: migrations applied once, core tables present, day partitions
ahead of time, maintenance idempotent."""
import datetime
from txtest import *

versions = [r[0] for r in sql("SELECT version FROM schema_version ORDER BY version")]
check(versions[:2] == [1, 2], "migrations 1 and 2 applied: %r" % versions)
tables = {r[0] for r in sql("SHOW TABLES")}
for t in ("account", "credential", "sender_domain", "job", "message", "event", "suppression",
          "webhook_delivery", "report", "trace_store", "idempotency", "delivery_record"):
    check(t in tables, "table %s exists" % t)
_, out, _ = ctl("db", "migrate")
check("0 applied now" in out, "second migrate applies nothing")
today = datetime.datetime.utcnow().date()
for t in ("message", "event", "trace_store"):
    parts = [r[0] for r in sql("SELECT partition_name FROM information_schema.partitions "
                               "WHERE table_schema=DATABASE() AND table_name=%s", t)]
    for d in range(0, 8):
        name = "p" + (today + datetime.timedelta(days=d)).strftime("%Y%m%d")
        check(name in parts, "%s has partition %s" % (t, name))
    check(parts[-1] == "pmax", "%s keeps a catch-all partition" % t)
before = sql("SELECT COUNT(*) FROM information_schema.partitions WHERE table_schema=DATABASE()")[0][0]
ctl("db", "partitions")
after = sql("SELECT COUNT(*) FROM information_schema.partitions WHERE table_schema=DATABASE()")[0][0]
eq(after, before, "partition maintenance is idempotent")
# queries by day touch only that day's partition (retention drops whole days)
c = db()
with c.cursor() as cur:
    cur.execute("EXPLAIN PARTITIONS SELECT * FROM message WHERE rday = UTC_DATE()")
    cols = [d[0] for d in cur.description]
    row = cur.fetchone()
c.close()
eq(row[cols.index("partitions")], "p" + today.strftime("%Y%m%d"), "partition pruning by day")
done()
