"""Suppression entries of the API and of txmail-recorder side by side
(contract §13.1): a MANUAL entry put through the API is kept against later
bounces (the recorder's ranks) and does not reset on blocked attempts, an
unsubscribe replaces it, a PUT replaces an UNSUBSCRIBED entry again; an
entry the recorder created after a bounce is listed, found, deleted and
unblocks."""
from txtest import *
from txevents import *
from txmanage import *

A = new_account()
AID = A["id"]
recv = now_ms() - 3600000


def settle(evs):
    publish_events(evs)
    wait_until(lambda: sql("SELECT 1 FROM event WHERE tag=%s", evs[-1]["tag"]), 20, "events recorded")


def bounce(addr, typ, life, ts):
    job = new_job_id()
    return event(AID, job, rid(job), recv, "DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE", ts=ts, email=addr,
                 frm="s@example.com", x={"suppress": {"address": addr, "type": typ, "lifetime_s": life,
                                                      "reason": "[5.1.1] bounced"}})


def blocked(addr, ts):
    job = new_job_id()
    return event(AID, job, rid(job), recv, "DELIVER", "FINISHED", "DROPPED", "SUPPRESSED", ts=ts, email=addr,
                 frm="s@example.com", x={"suppressTouch": {"address": addr}})


exp = now_ms() + 5 * 86400000
s, _, _, put = call(A, "PUT", SUPP + "/" + q("keep@example.com"), body={"reason": "manual", "expiresTs": iso(exp)})
eq(s, 201, "PUT")
settle([bounce("keep@example.com", "PREVIOUSLY_BOUNCED", 45 * 86400, now_ms())])
eq(call(A, "GET", SUPP + "/" + q("keep@example.com"))[3], put, "a later bounce leaves the MANUAL entry as it was")
settle([blocked("keep@example.com", now_ms())])
g = call(A, "GET", SUPP + "/" + q("keep@example.com"))[3]
eq((g["type"], g["expiresTs"], g["createdTs"]), ("MANUAL", put["expiresTs"], put["createdTs"]),
   "a blocked attempt: MANUAL does not reset its expiry")
check(g["lastAttemptTs"] is not None, "the blocked attempt is recorded (lastAttemptTs)")
# an unsubscribe is stronger than MANUAL
job = new_job_id()
settle([event(AID, job, rid(job), recv, "POST_PROCESS", "POST_DELIVERY", "UNSUBSCRIBED", "OK", email="keep@example.com",
              frm="s@example.com", x={"suppress": {"address": "keep@example.com", "type": "UNSUBSCRIBED",
                                                   "lifetime_s": None, "reason": "one-click"}})])
g = call(A, "GET", SUPP + "/" + q("keep@example.com"))[3]
eq((g["type"], g["expiresTs"]), ("UNSUBSCRIBED", None), "an unsubscribe replaces the MANUAL entry")
s, _, _, g = call(A, "PUT", SUPP + "/" + q("keep@example.com"))
eq((s, g["type"]), (200, "MANUAL"), "the operator's PUT replaces the UNSUBSCRIBED entry")

# a bounce entry of the recorder: listed, found, deletable; the type filter sees it
t = now_ms()
settle([bounce("Gone@Example.com", "PREVIOUSLY_BOUNCED", 7 * 86400, t)])
g = call(A, "GET", SUPP + "/" + q("gone@example.com"))[3]
eq((g["type"], g["createdTs"], g["expiresTs"], g["reason"]),
   ("PREVIOUSLY_BOUNCED", iso(t), iso(t + 7 * 86400000), "[5.1.1] bounced"), "the recorder's entry")
eq([i["email"] for i in call(A, "GET", SUPP + "?type=PREVIOUSLY_BOUNCED")[3]["items"]], ["gone@example.com"],
   "listed under its type")
eq(call(A, "DELETE", SUPP + "/" + q("gone@example.com"))[0], 204, "DELETE the recorder's entry")
eq(sql("SELECT COUNT(*) FROM suppression WHERE account_id=%s AND address='gone@example.com'", AID)[0][0], 0,
   "the row is gone")
# a bounce entry that expired at the bounce's own lifetime
settle([bounce("short@example.com", "TEMPORARY_SUPPRESSED", 1, now_ms())])
eq(call(A, "GET", SUPP + "/" + q("short@example.com"))[0], 200, "a 1-second entry: found at first")
time.sleep(1.5)
eq(call(A, "GET", SUPP + "/" + q("short@example.com"))[0], 404, "then expired: 404")
check("short@example.com" not in [i["email"] for i in call(A, "GET", SUPP)[3]["items"]], "and not listed")
done()
