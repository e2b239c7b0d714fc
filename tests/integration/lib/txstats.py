"""txstats - GET /email/v2/stats (contract §12.4) for the monitor cases
(tests/integration/33x): the windows and their buckets, a tally of what was
published that computes the totals and series the answer must have, and
the check of one answer against it."""
import datetime

from txtest import check, eq, rest
from txevents import now_ms

MIN = 60000
HOUR = 60 * MIN
DAY = 24 * HOUR
# window -> (span ms, bucket ms, bucket name)
WINDOWS = {"15m": (15 * MIN, MIN, "1m"), "1h": (HOUR, MIN, "1m"), "6h": (6 * HOUR, 5 * MIN, "5m"),
           "24h": (DAY, 15 * MIN, "15m"), "7d": (7 * DAY, HOUR, "1h"), "30d": (30 * DAY, 6 * HOUR, "6h"),
           "45d": (45 * DAY, DAY, "1d")}
SERIES_KEYS = ["accepted", "delivered", "deferred", "bounced", "dropped", "opened", "clicked"]
SIMPLE = {"DELIVERED": "delivered", "DEFERRED": "deferred", "OPENED": "opened", "CLICKED": "clicked",
          "UNSUBSCRIBED": "unsubscribed"}


def ms_of_iso(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(round(d.timestamp() * 1000))


def stats(acct, window=None, auth=None):
    """(status, parsed JSON) of GET /email/v2/stats[?window=] as acct."""
    path = "/email/v2/stats" + ("" if window is None else "?window=" + window)
    st, _, _, j = rest("GET", path, auth=auth or (acct["user"], acct["password"]))
    return st, j


def counter_of(typ, sub):
    """What an event counts (workers/monitor/monitor_count.c), or None."""
    if typ in SIMPLE:
        return SIMPLE[typ]
    if typ == "BOUNCED" and sub in ("HARD_BOUNCE", "SOFT_BOUNCE"):
        return "bounced." + sub
    if typ == "DROPPED":
        return "dropped." + sub
    if (typ, sub) == ("FEEDBACK_LOOP", "COMPLAINT"):
        return "complaints"
    return None


class Tally:
    """What one account's published events and intake records count."""

    def __init__(self):
        self.items = []   # (counter, ts ms, n)

    def intake(self, received, n):
        self.items.append(("accepted", received, n))

    def event(self, ev):
        c = counter_of(ev["type"], ev["subType"])
        if c:
            self.items.append((c, ev["ts_ms"], 1))

    def totals(self, frm, to):
        t = {"accepted": 0, "delivered": 0, "deferred": 0, "bounced": {"HARD_BOUNCE": 0, "SOFT_BOUNCE": 0},
             "dropped": {}, "opened": 0, "clicked": 0, "unsubscribed": 0, "complaints": 0}
        for c, ts, n in self.items:
            if not frm <= ts < to:
                continue
            if c.startswith("bounced."):
                t["bounced"][c[8:]] += n
            elif c.startswith("dropped."):
                t["dropped"][c[8:]] = t["dropped"].get(c[8:], 0) + n
            else:
                t[c] += n
        return t

    def series(self, frm, to, bucket):
        s = [dict([("ts", frm + i * bucket)] + [(k, 0) for k in SERIES_KEYS])
             for i in range((to - frm) // bucket)]
        for c, ts, n in self.items:
            if not frm <= ts < to:
                continue
            k = c.split(".")[0]
            if k in SERIES_KEYS:
                s[(ts - frm) // bucket][k] += n
        return s


def check_window(j, window, before, after):
    """The answer's window, bucket, from and to (§12.4): to is the end of the
    bucket holding the time of the request (between before and after), from
    = to - window, one series element per bucket, oldest first."""
    span, bucket, name = WINDOWS[window]
    eq((j["window"], j["bucket"]), (window, name), "window %s: window and bucket" % window)
    frm, to = ms_of_iso(j["from"]), ms_of_iso(j["to"])
    eq((to % bucket, to - frm), (0, span), "window %s: from/to aligned to the bucket, one window apart" % window)
    check(to - bucket <= after and before < to, "window %s: the last bucket holds now (%s)" % (window, j["to"]))
    eq([ms_of_iso(e["ts"]) for e in j["series"]], list(range(frm, to, bucket)),
       "window %s: every bucket, ordered" % window)
    return frm, to


def answer_matches(j, tally, in_progress=None):
    """1 when the answer's totals and series are the tally's (for its own from/to)."""
    span, bucket, _ = WINDOWS[j["window"]]
    frm, to = ms_of_iso(j["from"]), ms_of_iso(j["to"])
    want = tally.totals(frm, to)
    got = dict(j["totals"])
    ip = got.pop("inProgress", None)
    if in_progress is not None and ip != in_progress:
        return False
    series = [dict(e, ts=ms_of_iso(e["ts"])) for e in j["series"]]
    return got == want and series == tally.series(frm, to, bucket)


def check_answer(acct, window, tally, in_progress=None):
    """GET the window and check everything against the tally; returns the answer."""
    before = now_ms()
    st, j = stats(acct, window)
    after = now_ms()
    eq(st, 200, "stats %s" % window)
    frm, to = check_window(j, window, before, after)
    got = dict(j["totals"])
    ip = got.pop("inProgress")
    eq(got, tally.totals(frm, to), "window %s: totals are what was published" % window)
    series = [dict(e, ts=ms_of_iso(e["ts"])) for e in j["series"]]
    eq(series, tally.series(frm, to, WINDOWS[window][1]), "window %s: series are what was published" % window)
    if in_progress is not None:
        eq(ip, in_progress, "window %s: inProgress" % window)
    return j
