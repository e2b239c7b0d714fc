"""Tracking events end to end through the consumers: an open, a click and a
one-click unsubscribe on a job known to the recorder (intake record) become
event rows completed from the message row (account, mail, Message-ID),
webhooks in the contract's shape (content.tracking), and an UNSUBSCRIBED
suppression entry for the address; the next REST job to that address is
answered PART with the address SUPPRESSED."""
import http.client
import urllib.parse

from txtest import *
from txevents import *
import txrest
import txtrack

U = urllib.parse.urlsplit(E["TXMAIL_TRACK_URL"])
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Mail"


def hit(path, method="GET", body=None, ctype=None):
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=30)
    h = {"User-Agent": UA}
    if ctype:
        h["Content-Type"] = ctype
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, r.getheader("Location")


hook = WebhookReceiver()
acct = new_account(settings={"features": {"tracking": True}})
A = acct["id"]
dom = acct["domain"]
job, received = insert_job(A, notification={"url": hook.url}, mail_from="Shop <news@%s>" % dom, recipients=2)
r0, r1 = rid(job, 0, 0), rid(job, 0, 1)
to0, to1 = "Ann <ann@example.org>", "bob%s@example.org" % uniq("")
mid = "<%s@txmail.test>" % r0
publish_events([
    intake(A, job, received, [recipient(job, 0, 0, to0, reference="ref-7"), recipient(job, 0, 1, to1, kind="cc")],
           mail_from="Shop <news@%s>" % dom),
    event(A, job, r0, received, "PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED",
          ts=received + 100, email=to0, frm="Shop <news@%s>" % dom, reference="ref-7", message_id=mid),
])
wait_until(lambda: sql("SELECT message_id FROM message WHERE rid=%s", r0) == ((mid,),), 20,
           "the message row with its Message-ID")

eq(hit("/t/o/%s.gif" % txtrack.token("o", job, 0, 0))[0], 200, "open")
st, loc = hit("/t/c/" + txtrack.token("c", job, 0, 0, url="https://shop.example.com/p?x=1"))
eq((st, loc), (302, "https://shop.example.com/p?x=1"), "click")
u1 = txtrack.token("u", job, 0, 1, expiry=int(time.time()) + 45 * 86400)
eq(hit("/t/u/" + u1, "POST", b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")[0], 200,
   "one-click unsubscribe")


def rows():
    return sql("SELECT type, rid, account_id, event_key, ts, notification FROM event "
               "WHERE job_id=%s AND phase='POST_PROCESS' ORDER BY type", job)


got = wait_until(lambda: (lambda r: r if len(r) == 3 else None)(rows()), 30, "three tracking event rows")
by = {r[0]: r for r in got}
eq(sorted(by), ["CLICKED", "OPENED", "UNSUBSCRIBED"], "event types recorded")
for t, r in by.items():
    eq(r[2], A, "%s recorded under the job's account" % t)
n_open = json.loads(by["OPENED"][5])
eq(n_open["meta"]["mail"], {"id": r0, "email": to0, "from": "Shop <news@%s>" % dom, "reference": "ref-7"},
   "OPENED meta.mail completed from the message row")
eq(n_open["content"]["mime"]["messageId"], mid, "OPENED content.mime.messageId from the message row")
eq(n_open["meta"]["event"]["ts"], by["OPENED"][3], "OPENED eventKey = its ts")
tr = n_open["content"]["tracking"]
eq((tr["ip"], tr["userAgent"], tr["automated"]), ("127.0.0.0", UA, False), "OPENED content.tracking")
n_click = json.loads(by["CLICKED"][5])
eq(n_click["content"]["tracking"]["url"], "https://shop.example.com/p?x=1", "CLICKED url recorded")
n_uns = json.loads(by["UNSUBSCRIBED"][5])
eq((n_uns["meta"]["mail"]["id"], n_uns["meta"]["mail"]["email"], by["UNSUBSCRIBED"][3]), (r1, to1, "1"),
   "UNSUBSCRIBED for the cc address, eventKey 1")
check("x" not in n_uns, "internal members are not part of the notification")

addr1 = to1.lower()
s = wait_until(lambda: sql("SELECT type, expires_at, reason, rid FROM suppression WHERE account_id=%s AND address=%s",
                           A, addr1), 20, "the suppression entry")
eq(s[0], ("UNSUBSCRIBED", None, "UNSUBSCRIBED", r1), "UNSUBSCRIBED entry without end, with the recipient id")
eq(sql("SELECT COUNT(*) FROM suppression WHERE account_id=%s AND address='ann@example.org'", A)[0][0], 0,
   "the other address is not suppressed")
other = new_account()
eq(sql("SELECT COUNT(*) FROM suppression WHERE account_id=%s", other["id"])[0][0], 0,
   "another account's list is untouched")

# webhooks: the job's endpoint gets the three notifications
def hook_events():
    return {n["meta"]["event"]["type"]: (m, n) for m, n, _ in hook.notifications()
            if n["meta"]["mail"]["id"] in (r0, r1) and n["meta"]["event"]["phase"] == "POST_PROCESS"}


hs = wait_until(lambda: (lambda h: h if len(h) == 3 else None)(hook_events()), 30, "three tracking webhooks")
meta, n = hs["CLICKED"]
eq((meta["jobId"], meta["account"]), (job, acct["name"]), "webhook top-level meta of the job")
eq(n["meta"]["tag"], json.loads(by["CLICKED"][5])["meta"]["tag"], "webhook tag = recorded tag")
eq(n["content"]["tracking"]["url"], "https://shop.example.com/p?x=1", "CLICKED webhook carries the URL")
eq(n["meta"]["mail"]["email"], to0, "webhook mail.email completed")
eq(hs["UNSUBSCRIBED"][1]["meta"]["mail"]["email"], to1, "UNSUBSCRIBED webhook for the cc address")

# a repeated unsubscribe records nothing new
eq(hit("/t/u/" + u1, "POST", b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")[0], 200,
   "repeated one-click")
time.sleep(2)
eq(sql("SELECT COUNT(*) FROM event WHERE rid=%s AND type='UNSUBSCRIBED'", r1)[0][0], 1, "still one UNSUBSCRIBED event")

# the next job to the unsubscribed address: the address is refused as SUPPRESSED
c = txrest.Client(user=acct["user"], password=acct["password"])
req = txrest.base_request(domain=dom, to=to1)
req["recipients"][0]["mail"]["to"].append({"email": "carl@example.org"})
st, _, body, doc = c.post(req)
eq(st, 200, "next job accepted")
eq(doc["meta"]["state"]["subType"], "PART", "answered PART")
to_list = doc["content"]["recipients"][0]["mail"]["to"]
eq(to_list[0].get("validationResult"), {"classifier": "SUPPRESSED", "message": "Reason: Suppressed"},
   "the unsubscribed address is refused as SUPPRESSED")
check("validationResult" not in to_list[1], "the other address is accepted")
done()
