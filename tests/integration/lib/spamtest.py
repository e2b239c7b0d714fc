"""spamtest - helpers for txmail-spamcheck's end-to-end cases (tests/integration/37x).

A tenant allowed the spam check (sender domain example.com with a selector of
its own, so render signs and the sink takes the mail), jobs sent through
txmail-rest with job.options.spamCheck, and readers of what came out: the
event rows of a recipient id (the notification as notify posts it), the sink,
txmail-spamcheck's log. The stack's own spamd scores (scripts/txmail-stack).
"""
import json
import os

from txtest import E, eq, new_account, rest, sql, stack, uniq, wait_until

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HAM = ("Dear customer,\n\nthank you for your order 4711 of two blue mugs. They ship tomorrow\n"
       "from our warehouse; the invoice is attached to your account page.\n\nKind regards\nThe shop\n")
HTML = "<html><body><p>" + HAM.replace("\n\n", "</p><p>") + "</p></body></html>"
LOG = os.path.join(E.get("TXMAIL_STACK_DIR", "/tmp"), "log", "spamcheck-1.log")
SSC = ("POST_PROCESS", "POST_DELIVERY", "SPAM_SCORE_CHECK", "INFORMATION")


def tenant(hook=None, defaults=None):
    """A fresh account with the spam check allowed (and the given defaults)."""
    settings = {"features": {"spamCheck": True}}
    if defaults:
        settings["defaults"] = defaults
    a = new_account(settings=settings, domain="example.com", selector=uniq("s"),
                    notify_url=hook.url if hook else None)
    a["sender"] = "shop-%s@example.com" % a["name"].lower()
    stack("publish-dns")
    return a


def send(acct, to, text=HAM, spam=None, subject="Your order 4711", ctype="text/plain"):
    """POST a job of one address as acct, spam = job.options.spamCheck; returns the recipient id."""
    body = {"subject": {"content": subject}, "body": {"content": text, "contentType": ctype},
            "mail": {"from": {"email": "Shop <%s>" % acct["sender"]}},
            "recipients": [{"mail": {"to": [{"email": to}]}}]}
    if spam is not None:
        body["job"] = {"options": {"spamCheck": spam}}
    st, _, raw, j = rest("POST", "/email/v2/jobs", body=body, auth=(acct["user"], acct["password"]))
    eq(st, 200, "job accepted (%s)" % raw[:300])
    return j["content"]["recipients"][0]["mail"]["to"][0]["id"]


def events(rid, typ=None):
    rows = sql("SELECT phase, state, type, subtype, description, notification, tag "
               "FROM event WHERE rid=%s ORDER BY seq", rid)
    out = [dict(phase=r[0], state=r[1], type=r[2], subType=r[3], description=r[4],
                notification=json.loads(r[5]) if r[5] else None, tag=r[6]) for r in rows]
    return [e for e in out if typ is None or e["type"] == typ]


def wait_event(rid, typ, timeout=60):
    return wait_until(lambda: events(rid, typ), timeout, "a %s event of %s" % (typ, rid))[0]


def spamscore(ev):
    return ev["notification"]["content"]["spamscore"]


def log_line(rid, timeout=20):
    """txmail-spamcheck's log line of rid."""
    def look():
        if not os.path.exists(LOG):
            return None
        with open(LOG, errors="replace") as f:
            got = [l.rstrip("\n") for l in f if rid + ": to=<" in l]
        return got or None
    return wait_until(look, timeout, "a txmail-spamcheck log line of %s" % rid)
