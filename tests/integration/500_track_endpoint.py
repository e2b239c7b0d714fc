"""txmail-track over real HTTP (contract §15): pixel, redirect, one-click
unsubscribe, every way a token can be bad, expiry, HEAD, automated
clients; the events it publishes to txmail.events (shape, tag, eventKey)."""
import hashlib
import http.client
import urllib.parse
import uuid

from txtest import *
import txtrack

U = urllib.parse.urlsplit(E["TXMAIL_TRACK_URL"])
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
Q = "t500events"

declare_queue(Q, "txmail.events", "#")
drain(Q)


def get(path, method="GET", ua=BROWSER, body=None, headers=None):
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=30)
    h = {"User-Agent": ua} if ua is not None else {}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, data


def events_for(job, n, timeout=15):
    got = []

    def more():
        for _, b in drain(Q, timeout=0.2):
            got.extend(d for d in event_docs(b) if d.get("job") == job)
        return got if len(got) >= n else None
    wait_until(more, timeout, "%d event(s) of job %s" % (n, job))
    return got


def no_events_for(job, wait=1.5):
    time.sleep(wait)
    return [d for _, b in drain(Q, timeout=0.2) for d in event_docs(b) if d.get("job") == job]


wait_until(lambda: json.loads(get("/health")[2]).get("broker") == "connected", 30, "track connected to the broker")


def tag(rid, ev):
    s = "\n".join([rid, ev["phase"], ev["state"], ev["type"], ev["subType"], ev["eventKey"]])
    return hashlib.sha256(s.encode()).hexdigest()


job = str(uuid.uuid4())
rid = job + "#00000002#00000005"

# ---- open pixel
t_open = txtrack.token("o", job, 2, 5)
st, h, body = get("/t/o/%s.gif" % t_open)
eq(st, 200, "pixel status")
eq(h.get("content-type"), "image/gif", "pixel content type")
eq(h.get("cache-control"), "no-store, no-cache, must-revalidate, private", "pixel Cache-Control")
eq(body, GIF, "pixel body is the transparent 1x1 GIF")
ev = events_for(job, 1)[0]
eq((ev["phase"], ev["state"], ev["type"], ev["subType"]), ("POST_PROCESS", "POST_DELIVERY", "OPENED", "OK"), "OPENED event")
eq(ev["rid"], rid, "event recipient id from the token's indexes")
eq(ev["eventKey"], ev["ts"], "OPENED eventKey is its ts")
eq(ev["tag"], tag(rid, ev), "tag per contract §11.5")
tr = ev["content"]["tracking"]
eq((tr["ip"], tr["userAgent"], tr["automated"], tr["ts"]), ("127.0.0.0", BROWSER, False, ev["ts"]), "content.tracking of an open")
check("url" not in tr, "no url in an open")
eq(ev["account"], 0, "account left for the consumers (not in the token)")

# a reload within track_dedup_window (60 s) is answered but makes no event
# (issue 11: floods); an open after the window is a new event (506, 509)
st, _, body = get("/t/o/%s.gif" % t_open)
eq((st, body), (200, GIF), "a reload gets the pixel")
eq(no_events_for(job), [], "a reload within the dedup window makes no event")

# ---- click
url = "https://shop.example.com/p?x=1&y=%C3%A9&z=\u00e9 w"
t_click = txtrack.token("c", job, 2, 5, url=url)
st, h, body = get("/t/c/" + t_click)
eq(st, 302, "click status")
eq(h.get("location"), "https://shop.example.com/p?x=1&y=%C3%A9&z=%C3%A9%20w", "Location (non-ASCII and space percent-encoded)")
eq(h.get("cache-control"), "no-store", "click Cache-Control")
ev = events_for(job, 1)[0]
eq(ev["type"], "CLICKED", "CLICKED event")
eq(ev["content"]["tracking"]["url"], url, "CLICKED carries the original URL")
eq(ev["tag"], tag(rid, ev), "CLICKED tag")

# query strings added by clients do not matter; HEAD answers without an event
st, h, _ = get("/t/c/" + t_click + "?utm=x")
eq(st, 302, "click with an extra query string")
st, h, _ = get("/t/c/" + t_click, method="HEAD")
eq((st, h.get("location")), (302, "https://shop.example.com/p?x=1&y=%C3%A9&z=%C3%A9%20w"), "HEAD on a click")
st, h, _ = get("/t/o/%s.gif" % t_open, method="HEAD")
eq(st, 200, "HEAD on the pixel")
eq(no_events_for(job), [], "HEAD records nothing (and the repeated click is within the dedup window)")

# ---- automated clients (each on a link of its own: repeats of one link within
# the dedup window make no event)
for i, ua in enumerate(["curl/8.0.1", "Mozilla/5.0 (compatible; Barracuda Sentinel)", None]):
    get("/t/c/" + txtrack.token("c", job, 2, 5, url="https://shop.example.com/auto%d" % i), ua=ua)
evs = events_for(job, 3)
eq([e["content"]["tracking"]["automated"] for e in evs], [True, True, True], "scanner, curl and no User-Agent are automated")

# ---- bad tokens: 404, never a redirect, no event
bad = {
    "one character changed": t_click[:40] + ("A" if t_click[40] != "A" else "B") + t_click[41:],
    "truncated": t_click[:-3],
    "one character appended": t_click + "A",
    "padding": t_click + "=" * (-len(t_click) % 4 or 4),
    "standard alphabet": t_click.replace("-", "+").replace("_", "/") if ("-" in t_click or "_" in t_click) else t_click + "+",
    "percent-encoded": "%" + "%02X" % ord(t_click[0]) + t_click[1:],
    "open token on the click path": t_open,
    "unsubscribe token on the click path": txtrack.token("u", job, 2, 5),
    "unknown key id": txtrack.token("c", job, 2, 5, url="https://evil.example/", key=(99, b"k" * 32)),
    "right id, wrong key": txtrack.token("c", job, 2, 5, url="https://evil.example/", key=(txtrack.keys()[0][0], b"k" * 32)),
    "empty": "",
    "garbage": "hello",
}
for what, tok in bad.items():
    st, h, body = get("/t/c/" + tok)
    eq((st, h.get("location")), (404, None), "click, " + what)
st, _, _ = get("/t/o/%s" % t_open)
eq(st, 404, "pixel without .gif")
st, _, _ = get("/t/o/%s.gif" % t_click)
eq(st, 404, "click token on the pixel path")
st, _, _ = get("/t/u/" + t_open)
eq(st, 404, "open token on the unsubscribe path")
st, _, _ = get("/t/x/" + t_open)
eq(st, 404, "unknown path")
st, _, _ = get("/t/c/" + t_click, method="PUT", body=b"")
eq(st, 405, "PUT")
eq(no_events_for(job), [], "bad tokens record nothing")

# ---- expired tokens
past = int(time.time()) - 60
st, h, body = get("/t/o/%s.gif" % txtrack.token("o", job, 2, 5, expiry=past))
eq(st, 410, "expired open")
st, h, _ = get("/t/c/" + txtrack.token("c", job, 2, 5, url="https://old.example/x", expiry=past))
eq((st, h.get("location")), (302, "https://old.example/x"), "expired click still redirects")
t_unsub_old = txtrack.token("u", job, 2, 5, expiry=past)
eq(get("/t/u/" + t_unsub_old)[0], 410, "expired unsubscribe page")
eq(get("/t/u/" + t_unsub_old, method="POST", body=b"List-Unsubscribe=One-Click",
       headers={"Content-Type": "application/x-www-form-urlencoded"})[0], 410, "expired unsubscribe POST")
eq(no_events_for(job), [], "expired tokens record nothing")

# ---- one-click unsubscribe
t_unsub = txtrack.token("u", job, 2, 5, expiry=int(time.time()) + 45 * 86400)
st, h, body = get("/t/u/" + t_unsub)
eq(st, 200, "unsubscribe page")
check(h.get("content-type", "").startswith("text/html"), "the page is HTML")
page = body.decode()
check('method="post"' in page and ('action="/t/u/%s"' % t_unsub) in page, "the page's form POSTs to the same URL")
check('name="List-Unsubscribe" value="One-Click"' in page, "the form sends the one-click body")
st, _, _ = get("/t/u/" + t_unsub, method="POST", body=b"",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
eq(st, 400, "POST without the one-click body")
st, _, _ = get("/t/u/" + t_unsub, method="POST", body=b"List-Unsubscribe=Yes-Please",
               headers={"Content-Type": "application/x-www-form-urlencoded"})
eq(st, 400, "POST with another value")
eq(no_events_for(job, 0.5), [], "GET and bad POSTs do not unsubscribe")
st, _, body = get("/t/u/" + t_unsub, method="POST", body=b"List-Unsubscribe=One-Click",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
eq(st, 200, "one-click POST (form-encoded)")
ev = events_for(job, 1)[0]
eq((ev["type"], ev["eventKey"]), ("UNSUBSCRIBED", "1"), "UNSUBSCRIBED event, eventKey 1")
eq(ev["x"]["suppress"], {"address": "", "type": "UNSUBSCRIBED", "lifetime_s": None, "reason": "UNSUBSCRIBED"},
   "x.suppress (address completed from the message row by the consumer)")
check("url" not in ev["content"]["tracking"], "no url in UNSUBSCRIBED")
first_tag = ev["tag"]
boundary = "----txmail" + uniq()
mp = ("--%s\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--%s--\r\n"
      % (boundary, boundary)).encode()
st, _, _ = get("/t/u/" + t_unsub, method="POST", body=mp,
               headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
eq(st, 200, "one-click POST (multipart)")
ev = events_for(job, 1)[0]
eq(ev["tag"], first_tag, "a repeated unsubscribe is the same event (same tag)")

# ---- health and metrics
st, _, body = get("/health")
eq((st, json.loads(body)["broker"]), (200, "connected"), "health")
st, _, body = get("/metrics")
check(st == 200 and b"txmail_track_requests_total" in body, "metrics from loopback")
done()
