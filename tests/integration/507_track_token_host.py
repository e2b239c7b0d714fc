"""Tracking tokens are bound to the tracking host they were issued for
(contract §15.5, issue 11): the tag covers host || 0x00 || payload, so a
click token of one tenant's tracking host presented on another tenant's host
(the Host header) answers 404 and never redirects, like any token that is not
genuine; the same token on its own host redirects (host compared lower-case,
without port); expired tokens keep §15.5's answers on their own host and are
404 on another. The check reads no database (txmail-track has none)."""
import http.client
import urllib.parse
import uuid

from txtest import *
import txtrack

U = urllib.parse.urlsplit(E["TXMAIL_TRACK_URL"])
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"
Q = "t507events"
declare_queue(Q, "txmail.events", "#")
drain(Q)
A, B = "t.tenant-a.example", "t.tenant-b.example"


def get(path, host, method="GET", body=None, headers=None):
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=30)
    h = {"Host": host, "User-Agent": UA}
    h.update(headers or {})
    c.putrequest(method, path, skip_host=True)
    for k, v in h.items():
        c.putheader(k, v)
    c.endheaders(body)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, r.getheader("Location")


def events(job, settle=2.0):
    time.sleep(settle)
    return [d for _, b in drain(Q, timeout=0.3) for d in event_docs(b) if d.get("job") == job]


job = str(uuid.uuid4())
url = "https://shop.tenant-a.example/offer"
click = txtrack.token("c", job, 0, 0, url=url, host=A)

eq(get("/t/c/" + click, B), (404, None), "tenant A's click on tenant B's tracking host: 404, no redirect")
eq(get("/t/c/" + click, "127.0.0.1:%d" % U.port), (404, None), "and on the installation's default host: 404")
eq(get("/t/c/" + click, "t.tenant-a.example.evil"), (404, None), "a host that merely starts with A's: 404")
eq(get("/t/c/" + click, B, method="HEAD"), (404, None), "HEAD on B: 404")
eq(events(job), [], "no event for a token shown on the wrong host")
eq(get("/t/c/" + click, A), (302, url), "on its own host it redirects")
eq(get("/t/c/" + click, "T.Tenant-A.Example:8443"), (302, url), "host compared lower-case and without port")
evs = events(job)
eq([e["type"] for e in evs], ["CLICKED"], "the genuine click is recorded (once: the second is within the dedup window)")

o = txtrack.token("o", job, 0, 1, host=A)
eq(get("/t/o/%s.gif" % o, B)[0], 404, "an open token on another host: 404")
eq(get("/t/o/%s.gif" % o, A)[0], 200, "on its own host: the pixel")
u = txtrack.token("u", job, 0, 1, host=A, expiry=int(time.time()) + 45 * 86400)
eq(get("/t/u/" + u, B)[0], 404, "an unsubscribe token on another host: 404 (page)")
eq(get("/t/u/" + u, B, "POST", b"List-Unsubscribe=One-Click", {"Content-Type": "application/x-www-form-urlencoded"})[0],
   404, "an unsubscribe token on another host: 404 (one-click POST)")
types = sorted(e["type"] for e in events(job))
eq(types, ["OPENED"], "only the open on its own host made an event")

# expired tokens: §15.5's answers on their own host, 404 elsewhere
past = int(time.time()) - 60
xc = txtrack.token("c", job, 0, 0, url="https://old.tenant-a.example/", expiry=past, host=A)
eq(get("/t/c/" + xc, A), (302, "https://old.tenant-a.example/"), "expired click on its own host: 302, no event")
eq(get("/t/c/" + xc, B), (404, None), "expired click on another host: 404")
xo = txtrack.token("o", job, 0, 0, expiry=past, host=A)
eq(get("/t/o/%s.gif" % xo, A)[0], 410, "expired open on its own host: 410")
eq(get("/t/o/%s.gif" % xo, B)[0], 404, "expired open on another host: 404")
eq(events(job), [], "expired tokens record nothing")
done()
