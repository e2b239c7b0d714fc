"""GET /email/v2/stats: every window with its bucket (§12.4), from/to
aligned to the bucket with the last bucket holding now, every bucket
present and ordered; an event at a window's first instant counts in its
first bucket, one a millisecond earlier does not; the default window is
24h; an event older than the 45-day retention counts nowhere; any other
window is 400 INVALID_VALUE naming window; 401 without credentials, 405
for another method."""
from txtest import *
from txevents import *
from txstats import *

acct = new_account()
A = acct["id"]
tally = Tally()
now = now_ms()
evs = []


def delivered(ts):
    job = new_job_id()
    e = event(A, job, rid(job), ts, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=ts, email="w@example.com",
              frm="s@example.com")
    evs.append(e)
    tally.event(e)


# the first instant of each window as it will be answered, and the millisecond before it
for w, (span, bucket, _) in WINDOWS.items():
    to = (now // bucket + 1) * bucket
    delivered(to - span)
    delivered(to - span - 1)
delivered(now - 1000)                   # the last bucket of every window
old = now - 46 * DAY                    # beyond the retention: counts nowhere
job = new_job_id()
evs.append(event(A, job, rid(job), old, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=old, email="w@example.com",
                 frm="s@example.com"))
publish_events(evs)


def counted():
    for w in WINDOWS:
        st, j = stats(acct, w)
        if st != 200 or not answer_matches(j, tally):
            return False
    return True


wait_until(counted, 60, "every window counts the boundary events right", interval=0.5)
for w in WINDOWS:
    j = check_answer(acct, w, tally)
    frm = ms_of_iso(j["from"])
    check(j["series"][0]["delivered"] >= 1 or frm != (now // WINDOWS[w][1] + 1) * WINDOWS[w][1] - WINDOWS[w][0],
          "window %s: the event at the first instant is in the first bucket" % w)
eq(sql("SELECT COUNT(*) FROM stat_minute WHERE account_id=%s AND minute < %s", A,
       sqltime(now - 45 * DAY))[0][0], 0, "nothing older than the retention was counted")

# the default window is 24h
st, j = stats(acct)
eq((st, j["window"], j["bucket"], len(j["series"])), (200, "24h", "15m", 96), "no window: 24h in 15-minute buckets")

# another window: 400 naming the parameter (§3.4)
for bad in ("", "2h", "24H", "1d", "15m%20", "7d;x", "0", "-1h", "45d,1h", "%FF"):
    st, j = stats(acct, bad)
    eq((st, j), (400, {"meta": {"state": {"type": "REJECTED", "subType": "INVALID_VALUE",
                                          "description": "Invalid value for window"}}}),
       "window=%s refused" % bad)
st, _, _, _ = rest("GET", "/email/v2/stats", auth=None)
eq(st, 401, "no credentials: 401")
st, h, _, _ = rest("POST", "/email/v2/stats", body={}, auth=(acct["user"], acct["password"]))
eq((st, h.get("allow")), (405, "GET"), "POST: 405, Allow: GET")
done()
