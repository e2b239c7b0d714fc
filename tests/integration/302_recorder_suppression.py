"""txmail-recorder: x.suppress creates or refreshes the suppression entry
with the right type and expiry (lifetime_s null = without end); MANUAL and
UNSUBSCRIBED entries are not overwritten by bounce classes; x.suppressTouch
resets the expiry only for the types that reset (contract §13.1)."""
from txtest import *
from txevents import *

acct = new_account()
A = acct["id"]
recv = now_ms() - 3600000
D = 86400


def supp(addr):
    rows = sql("SELECT type, created_at, last_attempt_at, expires_at, lifetime_s, reason, rid "
               "FROM suppression WHERE account_id=%s AND address=%s", A, addr)
    return rows[0] if rows else None


def bounce(addr, typ, life, ts, sub="HARD_BOUNCE", reason=None, r=None):
    job = new_job_id()
    r = r or rid(job)
    x = {"suppress": {"address": addr, "type": typ, "lifetime_s": life,
                      "reason": reason or "[5.1.1] bounced (550 unknown user)"}}
    return event(A, job, r, recv, "DELIVER", "FINISHED", "BOUNCED", sub, ts=ts, email=addr,
                 frm="s@example.com", x=x)


def blocked(addr, ts):
    job = new_job_id()
    return event(A, job, rid(job), recv, "DELIVER", "FINISHED", "DROPPED", "PREVIOUSLY_BOUNCED", ts=ts,
                 email=addr, frm="s@example.com", x={"suppressTouch": {"address": addr}})


def settle(evs):
    """publish and wait until the recorder has the last one"""
    publish_events(evs)
    wait_until(lambda: sql("SELECT 1 FROM event WHERE tag=%s", evs[-1]["tag"]), 20, "events recorded")


t0 = now_ms() - 10 * D * 1000
# 45-day class (unknown user): entry with expiry = bounce time + 45 d, address lowercased
e1 = bounce(" User1@Example.COM ", "PREVIOUSLY_BOUNCED", 45 * D, t0)
settle([e1])
s = supp("user1@example.com")
eq((s[0], ms_of(s[1]), s[2], ms_of(s[3]), s[4]), ("PREVIOUSLY_BOUNCED", t0, None, t0 + 45 * D * 1000, 45 * D),
   "PREVIOUSLY_BOUNCED 45 days from the bounce")
eq((s[5], s[6]), ("[5.1.1] bounced (550 unknown user)", e1["rid"]), "reason and recipient id")
# replay: unchanged
settle([dict(e1)])
eq(supp("user1@example.com"), s, "replay changes nothing")

# a blocked attempt 3 days later resets the 45-day lifetime from the attempt
ta = t0 + 3 * D * 1000
settle([blocked("user1@example.com", ta)])
s2 = supp("user1@example.com")
eq((ms_of(s2[2]), ms_of(s2[3])), (ta, ta + 45 * D * 1000), "touch: last attempt, expiry = attempt + 45 d")
eq(ms_of(s2[1]), t0, "created_at unchanged by a touch")
# an older touch arriving late never shortens it
settle([blocked("user1@example.com", t0 + 1000)])
eq(supp("user1@example.com")[2:4], s2[2:4], "a late older touch changes nothing")

# a weaker class (TEMPORARY_SUPPRESSED) keeps the stronger type
settle([bounce("user1@example.com", "TEMPORARY_SUPPRESSED", D, ta + 1000, sub="SOFT_BOUNCE")])
eq(supp("user1@example.com")[0], "PREVIOUSLY_BOUNCED", "weaker class does not replace the type")

# TEMPORARY_SUPPRESSED (1 day) then a hard bounce: upgraded
tt = now_ms() - 1000
settle([bounce("temp@example.com", "TEMPORARY_SUPPRESSED", D, tt, sub="SOFT_BOUNCE", reason="mailbox full")])
eq((supp("temp@example.com")[0], ms_of(supp("temp@example.com")[3])), ("TEMPORARY_SUPPRESSED", tt + D * 1000),
   "TEMPORARY_SUPPRESSED for one day")
settle([blocked("temp@example.com", tt + 500)])
eq(ms_of(supp("temp@example.com")[3]), tt + 500 + D * 1000, "TEMPORARY_SUPPRESSED resets on a blocked attempt")
settle([bounce("temp@example.com", "PREVIOUSLY_BOUNCED", 7 * D, tt + 600)])
s = supp("temp@example.com")
eq((s[0], ms_of(s[1]), ms_of(s[3]), s[4], s[5]),
   ("PREVIOUSLY_BOUNCED", tt + 600, tt + 600 + 7 * D * 1000, 7 * D, "[5.1.1] bounced (550 unknown user)"),
   "a stronger class replaces the entry")

# MANUAL entries (API) are never overwritten by bounces and do not reset
sql("INSERT INTO suppression (account_id, address, type, created_at, expires_at, reason) "
    "VALUES (%s, 'manual@example.com', 'MANUAL', %s, %s, 'by hand')", A, sqltime(t0), sqltime(t0 + 100 * D * 1000))
before = supp("manual@example.com")
settle([bounce("manual@example.com", "PREVIOUSLY_BOUNCED", 45 * D, t0 + 1000)])
eq(supp("manual@example.com"), before, "MANUAL not overwritten by a bounce")
settle([blocked("manual@example.com", t0 + 2000)])
s = supp("manual@example.com")
eq((s[0], s[3], ms_of(s[2])), ("MANUAL", before[3], t0 + 2000), "MANUAL: attempt noted, expiry unchanged")
# ... unless it had expired when the bounce happened
sql("INSERT INTO suppression (account_id, address, type, created_at, expires_at, reason) "
    "VALUES (%s, 'old@example.com', 'MANUAL', %s, %s, 'by hand')", A, sqltime(t0), sqltime(t0 + 1000))
settle([bounce("old@example.com", "PREVIOUSLY_BOUNCED", 7 * D, t0 + 5000)])
eq(supp("old@example.com")[0], "PREVIOUSLY_BOUNCED", "an expired MANUAL entry is replaced")

# one-click unsubscribe: UNSUBSCRIBED without end, replaces a bounce entry, never reset or overwritten
tu = now_ms()
job = new_job_id()
unsub = event(A, job, rid(job), recv, "POST_PROCESS", "POST_DELIVERY", "UNSUBSCRIBED", "OK", ts=tu,
              email="temp@example.com", x={"suppress": {"address": "temp@example.com", "type": "UNSUBSCRIBED",
                                                        "lifetime_s": None, "reason": "UNSUBSCRIBED"}})
settle([unsub])
s = supp("temp@example.com")
eq((s[0], ms_of(s[1]), s[3], s[4], s[5]), ("UNSUBSCRIBED", tu, None, None, "UNSUBSCRIBED"),
   "UNSUBSCRIBED without end")
settle([bounce("temp@example.com", "PREVIOUSLY_BOUNCED", 45 * D, tu + 10), blocked("temp@example.com", tu + 20)])
s2 = supp("temp@example.com")
eq((s2[0], s2[3]), ("UNSUBSCRIBED", None), "UNSUBSCRIBED neither overwritten nor given an end")

# tenancy: the same address in another account is a different entry
other = new_account()
job = new_job_id()
settle([event(other["id"], job, rid(job), recv, "DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE", ts=t0,
               email="user1@example.com", x={"suppress": {"address": "user1@example.com",
                                                          "type": "PREVIOUSLY_BOUNCED", "lifetime_s": 7 * D}})])
eq(sql("SELECT account_id, lifetime_s FROM suppression WHERE address='user1@example.com' AND account_id IN (%s, %s) "
       "ORDER BY account_id", A, other["id"]), ((A, 45 * D), (other["id"], 7 * D)), "one entry per account")
# a DEFERRED event never suppresses (it has no x.suppress); a malformed x.suppress is dead-lettered
drain("dead")
job = new_job_id()
badx = event(A, job, rid(job), recv, "DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE", ts=t0, email="z@example.com",
             x={"suppress": {"address": "z@example.com", "type": "FOREVER", "lifetime_s": -5}})
publish_events([badx])
dead = wait_until(lambda: [b for p, b in drain("dead", timeout=0.3)
                           if (p.headers or {}).get("x-txmail-dead-reason", "").startswith("recorder: ")], 20,
                  "malformed x.suppress dead-lettered")
eq(json.loads(dead[0])["tag"], badx["tag"], "the malformed event")
eq(supp("z@example.com"), None, "no entry from a malformed x.suppress")
done()
