"""txmail-deliver suppression check (contract 10.5, 11.6, 13.1): an address
on the account's list is dropped without any connection -
DELIVER/FINISHED/DROPPED/PREVIOUSLY_BOUNCED or SUPPRESSED with the 11.6
description and x.suppressTouch; expired entries and other accounts'
entries do not count; an entry added after a delivery stops the next
message within the negative-cache time."""
from dlvtest import *
from txtest import *

ev = Events()
proxy = CountingProxy(int(E["TXMAIL_SINK_PORT"]))
tmap = write_transport(["supp.test 127.0.0.1:%d" % proxy.port])
w = Worker("deliver_transport_map=" + tmap)
acct = new_account()
other = new_account()


def suppress(account, address, typ, created="2025-01-02 03:04:05.678", expires="2099-01-01 00:00:00",
             reason="[5.1.1] bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 unknown)"):
    sql("INSERT INTO suppression (account_id, address, type, created_at, expires_at, lifetime_s, reason) "
        "VALUES (%s,%s,%s,%s,%s,%s,%s)", account, address, typ, created, expires, 3888000, reason)


# PREVIOUSLY_BOUNCED: dropped, matched case-insensitively
a1 = uniq("pb") + "@supp.test"
suppress(acct["id"], a1, "PREVIOUSLY_BOUNCED")
rid1, _ = w.send(a1.split("@")[0].upper() + "@Supp.Test", account=acct["id"])
d1 = ev.wait(rid1, "DROPPED", "PREVIOUSLY_BOUNCED")[0]
eq((d1["phase"], d1["state"], d1["eventKey"]), ("DELIVER", "FINISHED", "1"), "final DELIVER drop")
eq(d1["description"], 'ts="2025-01-02T03:04:05.678Z", reason="[5.1.1] bounced (host mx.example.net[192.0.2.1] '
   'said: 550 5.1.1 unknown)"', "description per 11.6")
eq(d1["x"], {"suppressTouch": {"address": a1}}, "x.suppressTouch with the lowercased address")
eq(d1["tag"], tag(rid1, "DELIVER", "FINISHED", "DROPPED", "PREVIOUSLY_BOUNCED"), "tag")

# other types: SUPPRESSED naming the type
a2 = uniq("ts") + "@supp.test"
suppress(acct["id"], a2, "TEMPORARY_SUPPRESSED", reason="[4.2.2] bounced (mailbox full)")
rid2, _ = w.send(a2, account=acct["id"])
d2 = ev.wait(rid2, "DROPPED", "SUPPRESSED")[0]
eq(d2["description"], 'type="TEMPORARY_SUPPRESSED", ts="2025-01-02T03:04:05.678Z", reason="[4.2.2] bounced (mailbox full)"',
   "SUPPRESSED description names the type")
a3 = uniq("man") + "@supp.test"
suppress(acct["id"], a3, "MANUAL", expires=None, reason=None)
rid3, _ = w.send(a3, account=acct["id"])
eq(ev.wait(rid3, "DROPPED", "SUPPRESSED")[0]["description"], 'type="MANUAL", ts="2025-01-02T03:04:05.678Z", reason=""',
   "a manual entry without end")
time.sleep(0.5)
eq(proxy.connections, 0, "no connection was made for suppressed addresses")
check(no_message(a1, 0) and no_message(a2, 0) and no_message(a3, 0), "nothing at the sink")

# expired entry and another account's entry: delivered
a4 = uniq("exp") + "@supp.test"
suppress(acct["id"], a4, "PREVIOUSLY_BOUNCED", expires="2020-01-01 00:00:00")
rid4, _ = w.send(a4, account=acct["id"])
ev.wait(rid4, "DELIVERED", "OK")
a5 = uniq("oth") + "@supp.test"
suppress(other["id"], a5, "PREVIOUSLY_BOUNCED")
rid5, _ = w.send(a5, account=acct["id"])
ev.wait(rid5, "DELIVERED", "OK")
eq((len(sink_for(a4)), len(sink_for(a5))), (1, 1), "expired and foreign entries do not stop delivery")

# a fresh entry stops the next message (negative answers are cached at most deliver_suppress_cache = 1 s)
sql("UPDATE suppression SET expires_at='2099-01-01 00:00:00' WHERE account_id=%s AND address=%s", acct["id"], a4)
time.sleep(1.2)
rid6, _ = w.send(a4, account=acct["id"])
ev.wait(rid6, "DROPPED", "PREVIOUSLY_BOUNCED")
eq(len(sink_for(a4)), 1, "the second message was not sent")
w.stop()
done()
