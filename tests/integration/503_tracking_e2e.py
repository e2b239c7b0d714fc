"""Open/link tracking and one-click unsubscribe end to end (contract §8.5,
§15): REST -> render -> deliver -> sink, then a real HTTP client on the
tracking URLs found in the delivered message: the pixel -> OPENED, the
rewritten link -> 302 to the original URL + CLICKED, both recorded with
the account and posted as webhooks; the List-Unsubscribe one-click URL ->
UNSUBSCRIBED suppression -> the next job to that address is refused.
DKIM verifies on tracked messages and covers List-Unsubscribe(-Post); a
sender domain with its own tracking host (CNAME) gets URLs on that host."""
import email
import email.policy
import re
import urllib.error
import urllib.parse
import urllib.request

from txtest import *
import txrest
import txtrack

hook = WebhookReceiver()
acct = new_account(settings={"features": {"tracking": True, "oneClickUnsubscribe": True}},
                   notify_url=hook.url)
A = acct["id"]
dom2 = uniq("cname") + ".test"
TRACK = E["TXMAIL_TRACK_URL"]
cname_base = TRACK.replace("127.0.0.1", "localhost")  # the customer's CNAME of the tracking host
ctl("domain", "add", acct["name"], dom2, "--selector", "s1", "--tracking-host", cname_base)
stack("publish-dns")
c = txrest.Client(user=acct["user"], password=acct["password"])
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/121.0"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


opener = urllib.request.build_opener(NoRedirect)


def fetch(url, data=None):
    req = urllib.request.Request(url, data=data, headers={"User-Agent": BROWSER})
    try:
        r = opener.open(req, timeout=30)
        return r.status, dict((k.lower(), v) for k, v in r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict((k.lower(), v) for k, v in e.headers.items()), e.read()


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def part(m, ctype):
    for p in m.walk():
        if p.get_content_type() == ctype:
            return p.get_content().replace("\r\n", "\n")
    return None


def dkim_h(raw):
    m = re.search(rb"DKIM-Signature:(.*?)\r\n(?![ \t])", raw, re.S)
    h = re.search(rb"h=([^;]*)", re.sub(rb"\s+", b"", m.group(1))).group(1)
    return [x.lower() for x in h.decode().split(":")]


html = ("<html><body><p>Hi</p>\n"
        "<a href=\"https://shop.example.com/p?x=1&amp;y=2\">Shop</a>\n"
        "<a href=\"mailto:help@example.com\">Mail</a> <a href=\"#top\">Top</a>\n"
        "<a href=\"https://shop.example.com/unsub\">Unsubscribe</a>\n"
        "</body></html>")
a0, a1 = "trk0-%s@example.net" % uniq(""), "trk1-%s@example.net" % uniq("")
req = {
    "subject": {"content": "Tracked"},
    "body": {"contentType": "text/html", "content": html},
    "alternative": {"content": "Hi https://shop.example.com/p?x=1&y=2"},
    "recipients": [
        {"mail": {"to": [{"email": "Ann <%s>" % a0}], "listUnsubscribe": "unsubscribe@example.com"}},
        {"mail": {"to": [{"email": a1}], "listUnsubscribe": "https://shop.example.com/unsub"}},
    ],
    "mail": {"from": {"email": "Shop <news@%s>" % acct["domain"]}},
    "job": {"features": {"openTracking": {"active": True}, "linkTracking": {"active": True}}},
}
st, _, _, doc = c.post(req)
eq(st, 200, "tracked job accepted")
job = doc["meta"]["jobId"]
r0, r1 = job + "#00000000#00000000", job + "#00000001#00000001"

# ---- block 0: tracked links, pixel, txmail's one-click URL
raw0 = sink_wait(a0, 1, 60)[0][1]
m0 = parse(raw0)
h0 = part(m0, "text/html")
links = re.findall(r'href="([^"]*)"', h0)
eq(len(links), 4, "four links in the HTML")
check(links[0].startswith(TRACK + "/t/c/") and links[3].startswith(TRACK + "/t/c/"),
   "http(s) links rewritten to the tracking host: %s" % links)
eq(links[1:3], ["mailto:help@example.com", "#top"], "mailto: and fragment links untouched")
d = txtrack.decode(links[0].rsplit("/", 1)[1])
eq((d[0], d[1], d[2], d[3], d[5]), ("c", job, 0, 0, "https://shop.example.com/p?x=1&y=2"),
   "click token: this copy, the decoded original URL")
px = re.search(r'<img src="([^"]*)" width="1" height="1" alt="" border="0"></body>', h0)
check(px is not None and px.group(1).startswith(TRACK + "/t/o/"), "open pixel right before </body>")
eq(part(m0, "text/plain").rstrip("\n"), "Hi https://shop.example.com/p?x=1&y=2", "the text part is not changed")
lu = str(m0["List-Unsubscribe"])
lm = re.fullmatch(r"<mailto:unsubscribe@example\.com>, ?<(%s/t/u/[A-Za-z0-9_-]+)>" % re.escape(TRACK), lu)
check(lm is not None, "List-Unsubscribe: the request's URI, then txmail's one-click URL: %s" % lu)
eq(m0["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click", "List-Unsubscribe-Post with txmail's URL")
check(dkim_verify(raw0), "DKIM verifies on the tracked message")
h = dkim_h(raw0)
check("list-unsubscribe" in h and "list-unsubscribe-post" in h, "DKIM covers both List-Unsubscribe fields: %s" % h)
kind, j, b, ad, exp, _ = txtrack.decode(lm.group(1).rsplit("/", 1)[1])
eq((kind, j, b, ad), ("u", job, 0, 0), "the unsubscribe token is this address's")
check(abs(exp - (time.time() + 45 * 86400)) < 600, "the unsubscribe URL lives 45 days")
e_open = txtrack.decode(px.group(1).rsplit("/", 1)[1][:-len(".gif")])[4]
check(abs(e_open - (time.time() + 10 * 86400)) < 600, "open/click tokens live the account's 10-day window")

# ---- block 1: its https List-Unsubscribe URL is neither rewritten nor joined by ours
raw1 = sink_wait(a1, 1, 60)[0][1]
m1 = parse(raw1)
links1 = re.findall(r'href="([^"]*)"', part(m1, "text/html"))
eq(links1[3], "https://shop.example.com/unsub", "a link equal to the List-Unsubscribe URL is not rewritten")
check(links1[0].startswith(TRACK + "/t/c/") and links1[0] != links[0], "block 1 has its own click tokens")
eq(str(m1["List-Unsubscribe"]), "<https://shop.example.com/unsub>", "an https URL of the request: ours is not added")
eq(m1["List-Unsubscribe-Post"], None, "no List-Unsubscribe-Post without txmail's URL")
check(dkim_verify(raw1), "DKIM verifies (block 1)")

# ---- a real HTTP client on the URLs of the message
st, hd, body = fetch(px.group(1))
eq((st, hd.get("content-type"), len(body)), (200, "image/gif", 43), "the pixel loads")
st, hd, _ = fetch(links[0])
eq((st, hd.get("location")), (302, "https://shop.example.com/p?x=1&y=2"), "the link redirects to the original URL")
st, hd, _ = fetch(links[0][:-2])
eq((st, hd.get("location")), (404, None), "a truncated link: 404, no redirect")


def rows():
    return {r[0]: r for r in sql("SELECT type, account_id, notification FROM event WHERE rid=%s AND phase='POST_PROCESS'", r0)}


got = wait_until(lambda: (lambda r: r if {"OPENED", "CLICKED"} <= set(r) else None)(rows()), 30,
                 "OPENED and CLICKED recorded")
eq((got["OPENED"][1], got["CLICKED"][1]), (A, A), "recorded under the account")
n = json.loads(got["CLICKED"][2])
eq((n["meta"]["mail"]["email"], n["content"]["tracking"]["url"], n["content"]["tracking"]["userAgent"]),
   ("Ann <%s>" % a0, "https://shop.example.com/p?x=1&y=2", BROWSER), "CLICKED notification completed")
eq(n["content"]["mime"]["messageId"], "<%s@txmail.test>" % r0, "CLICKED carries the Message-ID")


def hooks():
    return {n["meta"]["event"]["type"]: n for _, n, _ in hook.notifications() if n["meta"]["mail"]["id"] == r0}


hk = wait_until(lambda: (lambda h: h if {"OPENED", "CLICKED"} <= set(h) else None)(hooks()), 30,
                "OPENED and CLICKED webhooks")
eq(hk["OPENED"]["content"]["tracking"]["automated"], False, "OPENED webhook: a browser is not automated")
eq(hk["CLICKED"]["content"]["tracking"]["url"], "https://shop.example.com/p?x=1&y=2", "CLICKED webhook url")

# ---- one-click unsubscribe with the header's URL
st, _, _ = fetch(lm.group(1), data=b"List-Unsubscribe=One-Click")
eq(st, 200, "RFC 8058 POST to the List-Unsubscribe URL")
s = wait_until(lambda: sql("SELECT type, expires_at, reason, rid FROM suppression WHERE account_id=%s AND address=%s",
                           A, a0), 30, "the suppression entry")
eq(s[0], ("UNSUBSCRIBED", None, "UNSUBSCRIBED", r0), "UNSUBSCRIBED, without end")
hk = wait_until(lambda: (lambda h: h if "UNSUBSCRIBED" in h else None)(hooks()), 30, "UNSUBSCRIBED webhook")
eq(hk["UNSUBSCRIBED"]["meta"]["mail"]["email"], "Ann <%s>" % a0, "UNSUBSCRIBED webhook for the address")

req2 = {"subject": {"content": "again"}, "body": {"contentType": "text/html", "content": "<p>x</p>"},
        "recipients": [{"mail": {"to": [{"email": a0}, {"email": a1}]}}],
        "mail": {"from": {"email": "news@%s" % acct["domain"]}}}
st, _, _, doc = c.post(req2)
eq((st, doc["meta"]["state"]["subType"]), (200, "PART"), "next job to the unsubscribed address: PART")
to = doc["content"]["recipients"][0]["mail"]["to"]
eq(to[0].get("validationResult"), {"classifier": "SUPPRESSED", "message": "Reason: Suppressed"}, "address refused")
job2 = doc["meta"]["jobId"]
drop = wait_until(lambda: sql("SELECT phase, type, subtype FROM event WHERE rid=%s", job2 + "#00000000#00000000"),
                  30, "the drop event")
eq(drop[0], ("PRE_PROCESS", "DROPPED", "SUPPRESSED"), "PRE_PROCESS/DROPPED/SUPPRESSED recorded")
sink_wait(a1, 2, 60)
time.sleep(1)
eq(len(sink_for(a0)), 1, "nothing more delivered to the unsubscribed address")

# ---- a sender domain with its own tracking host (CNAME)
a2 = "trk2-%s@example.net" % uniq("")
req3 = {"subject": {"content": "cname"}, "body": {"contentType": "text/html",
                                                     "content": "<html><body><a href=\"https://x.example/\">x</a></body></html>"},
        "recipients": [{"mail": {"to": [{"email": a2}]}}],
        "mail": {"from": {"email": "news@%s" % dom2}},
        "job": {"features": {"openTracking": {"active": True}, "linkTracking": {"active": True}}}}
st, _, _, doc = c.post(req3)
eq(st, 200, "job from the CNAME domain")
raw2 = sink_wait(a2, 1, 60)[0][1]
h2 = part(parse(raw2), "text/html")
urls = re.findall(r'(?:href|src)="([^"]*)"', h2)
check(len(urls) == 2 and all(u.startswith(cname_base + "/t/") for u in urls),
      "tracking URLs on the sender domain's tracking host: %s" % urls)
check(dkim_verify(raw2), "DKIM verifies (CNAME domain)")
eq(fetch(urls[0])[0], 302, "the CNAME host's link works")
# the token is bound to the CNAME host: on another tenant's (here the default)
# tracking host it is not genuine (contract §15.5): 404, no redirect
st, hd, _ = fetch(urls[0].replace(cname_base, TRACK))
eq((st, hd.get("location")), (404, None), "the CNAME host's link on the default tracking host: 404")
done()
