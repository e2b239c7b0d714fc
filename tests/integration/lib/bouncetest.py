"""bouncetest - helpers for txmail-bounce's end-to-end cases (tests/integration/34x).

A tenant with a bounce domain (txmailctl domain add --bounce-domain) and a
webhook receiver, a message sent through txmail-rest and delivered to the
sink (its VERP address is the sink's MAIL FROM), reports and replies built
from the corpus samples in tests/fixtures/bounces and sent over SMTP to the
inbound listener (TXMAIL_BOUNCE_SMTP), and readers of what txmail-bounce
left behind (event rows, suppression entries, forwards at the sink, its log).
"""
import email
import email.policy
import json
import os
import re
import uuid

from txtest import E, REPO, ctl, eq, fail, new_account, rest, sink_for, sink_wait, sql, stack, uniq, wait_until
from smtpdtest import Raw, stuff

FIX = os.path.join(REPO, "tests", "fixtures", "bounces")
LOG = os.path.join(E.get("TXMAIL_STACK_DIR", "/tmp"), "log", "bounce-1.log")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def tenant(hook=None, settings=None):
    """A fresh account whose sender domain example.com (a selector of its own,
    so the sink takes mail for its sender too) has the bounce domain
    b-<name>.example.net; its default webhook endpoint is hook (a
    WebhookReceiver) when given. dict(name, user, password, id, domain,
    bounce, sender: shop-<name>@example.com)."""
    sel = uniq("s")
    a = new_account(settings=settings, domain="example.com", selector=sel,
                    notify_url=hook.url if hook else None)
    a["bounce"] = "b-%s.example.net" % a["name"].lower()
    a["sender"] = "shop-%s@example.com" % a["name"].lower()
    sql("DELETE FROM sender_domain WHERE account_id=%s", a["id"])
    ctl("domain", "add", a["name"], a["domain"], "--selector", sel, "--bounce-domain", a["bounce"])
    stack("publish-dns")
    return a


def send(acct, to, subject="Your order", text="Thank you for your order.\n"):
    """POST a job of one address as acct; returns the recipient id."""
    body = {"subject": {"content": subject}, "body": {"content": text, "contentType": "text/plain"},
            "mail": {"from": {"email": "Shop <%s>" % acct["sender"]}},
            "recipients": [{"mail": {"to": [{"email": to}]}}]}
    st, _, raw, j = rest("POST", "/email/v2/jobs", body=body, auth=(acct["user"], acct["password"]))
    eq(st, 200, "job accepted (%s)" % raw[:200])
    return j["content"]["recipients"][0]["mail"]["to"][0]["id"]


def delivered(rid, to, timeout=60):
    """Wait until rid is DELIVERED (message row) and at the sink; (VERP address, Message-ID, raw)."""
    wait_until(lambda: sql("SELECT 1 FROM message WHERE rid=%s AND last_type='DELIVERED'", rid), timeout,
               "%s DELIVERED" % rid)
    for meta, raw in sink_wait(to, 1, timeout):
        m = email.message_from_bytes(raw, policy=email.policy.compat32)
        if m["Message-ID"] and rid in m["Message-ID"]:
            return meta["mailFrom"], m["Message-ID"].strip(), raw
    fail("no message of %s at the sink for %s" % (rid, to))


def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def fixture(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return crlf(f.read())


def dsn(rcpt, message_id, diag=b"550 #5.1.0 Address rejected.", action=b"failed", status=b"5.0.0"):
    """rfc3464-51 (a Gmail DSN: userunknown, 5.1.0, 550) about rcpt, returning our Message-ID."""
    m = fixture("rfc3464-51.eml")
    m = m.replace(b"kijitora@example.de", rcpt.encode())
    m = m.replace(b"<00222222-2222-2222-2222-FF00FFFF0000@example.jp>", message_id.encode())
    m = m.replace(b"550 #5.1.0 Address rejected.", diag)
    m = m.replace(b"Action: failed", b"Action: " + action).replace(b"Status: 5.0.0", b"Status: " + status)
    return m


def arf(rcpt, message_id):
    """arf-21 (an abuse report, Feedback-Type abuse) about our message to rcpt."""
    m = fixture("arf-21.eml")
    m = m.replace(b"kijitora@example.org", rcpt.encode())
    m = m.replace(b"<00000000000000000000000022222222@example.net>", message_id.encode())
    return m


def vacation(to):
    """rfc3834-01 (an auto-reply, Auto-Submitted: auto-replied) sent to `to`."""
    return fixture("rfc3834-01.eml").replace(b"To: neko@libsisimai.org", b"To: " + to.encode())


def reply(frm, to, message_id, body=b"Thanks, but the parcel never arrived.\r\n", attachment=None):
    """A human reply from frm to `to`, answering message_id; attachment: bytes of an attached file."""
    head = (b"From: Ann Example <%s>\r\nTo: Shop <%s>\r\nSubject: Re: Your order\r\n"
            b"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.org>\r\n"
            b"In-Reply-To: %s\r\nReferences: %s\r\nMIME-Version: 1.0\r\n"
            % (frm.encode(), to.encode(), uuid.uuid4().hex.encode(), message_id.encode(), message_id.encode()))
    if attachment is None:
        return head + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    import base64
    b64 = base64.encodebytes(attachment).replace(b"\n", b"\r\n")
    return (head + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body +
            b'--b1\r\nContent-Type: application/octet-stream; name="invoice.com"\r\n'
            b"Content-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="invoice.com"\r\n\r\n' + b64 + b"--b1--\r\n")


def smtp(rcpts, msg, mail_from=""):
    """Send msg to the inbound listener; the final answer (text)."""
    host, port = E["TXMAIL_BOUNCE_SMTP"].rsplit(":", 1)
    c = Raw(port=int(port))
    c.ehlo("mx.isp.example")
    eq(c.cmd("MAIL FROM:<%s>" % mail_from)[0], 250, "MAIL FROM accepted")
    for r in rcpts:
        eq(c.cmd("RCPT TO:<%s>" % r)[0], 250, "RCPT TO:<%s> accepted" % r)
    eq(c.cmd("DATA")[0], 354, "DATA")
    c.send(stuff(msg))
    code, text = c.reply()
    c.cmd("QUIT")
    c.close()
    eq(code, 250, "message accepted by the inbound listener (%s)" % text)
    m = re.search(r"queued as (\S+)", text)
    return m.group(1) if m else text


def events(rid, typ=None):
    """Event rows of rid: dicts with the notification parsed."""
    rows = sql("SELECT phase, state, type, subtype, event_key, description, notification, tag, account_id "
               "FROM event WHERE rid=%s ORDER BY seq", rid)
    out = [dict(phase=r[0], state=r[1], type=r[2], subType=r[3], key=r[4], description=r[5],
                notification=json.loads(r[6]), tag=r[7], account=r[8]) for r in rows]
    return [e for e in out if typ is None or e["type"] == typ]


def wait_event(rid, typ, n=1, timeout=30):
    return wait_until(lambda: (lambda l: l if len(l) >= n else None)(events(rid, typ)), timeout,
                      "%d %s event(s) of %s" % (n, typ, rid))


def supp(account, addr):
    """(type, created_at, expires_at, reason, rid) of the account's entry for addr, or None."""
    r = sql("SELECT type, created_at, expires_at, reason, rid FROM suppression WHERE account_id=%s AND address=%s",
            account, addr.lower())
    return r[0] if r else None


def log_lines(needle, timeout=20):
    """The lines of txmail-bounce's log that contain needle (waits for at least one)."""
    def look():
        if not os.path.exists(LOG):
            return None
        with open(LOG, errors="replace") as f:
            return [l.rstrip("\n") for l in f if needle in l]
    return wait_until(look, timeout, "a txmail-bounce log line with %r" % needle)


def outcome_of(inbound_id, timeout=20):
    """The status word of the log lines of one inbound message, in order."""
    return [re.search(r"status=(\w+)", l).group(1) for l in log_lines(inbound_id + ": rid=", timeout)]


def forwards_to(rcpt):
    """Messages at the sink for rcpt (forwards of txmail-bounce)."""
    return sink_for(rcpt)


def payload_errors(hook):
    """Violations of every POST hook received against docs/openapi.json's NotificationPayload."""
    import txopenapi
    schema = txopenapi.document()["components"]["schemas"]["NotificationPayload"]
    out = []
    for r in list(hook.requests):
        out += txopenapi.errors(schema, json.loads(r["body"]))
    return out


def message_events(acct, rid):
    """GET /email/v2/messages/{rid} as acct (the answer is checked against docs/openapi.json)."""
    st, _, _, m = rest("GET", "/email/v2/messages/" + rid.replace("#", "%23"), auth=(acct["user"], acct["password"]))
    eq(st, 200, "GET /messages/%s" % rid)
    return m
