"""rendertest - helpers for the txmail-render cases (tests/integration/20x-24x).

The cases publish job envelopes themselves (with the acceptance record in
the `job` table), exactly as txmail-rest and txmail-smtpd shape them
(docs/ENVELOPES.md), and capture what render publishes with their own
queues: one bound to txmail.work with key "deliver" (a copy of every
message render forwards; the stack's deliver worker still gets its own),
one bound to txmail.events with "#".
"""
import base64
import email
import email.policy
import hashlib
import json
import re
import time
import uuid

from txtest import (E, Program, amqp, check, ctl, declare_queue, eq, event_docs, fail, log, new_account,
                    parse_envelope, publish, sql, stack, uniq, wait_until)

_captured = {}   # queue -> list of (env, raw) not yet claimed


class Capture:
    """Test queues for render's output (messages) and events, claimed by job id."""

    def __init__(self, name, out_key="deliver"):
        self.out_q = "t_render_out_" + name
        self.ev_q = "t_render_ev_" + name
        declare_queue(self.out_q, "txmail.work", out_key)
        declare_queue(self.ev_q, "txmail.events", "#")
        self.purge()
        self.msgs = []
        self.events = []

    def purge(self):
        c = amqp()
        try:
            ch = c.channel()
            ch.queue_purge(self.out_q)
            ch.queue_purge(self.ev_q)
        finally:
            c.close()

    def _pull(self):
        c = amqp()
        try:
            ch = c.channel()
            for q, sink in ((self.out_q, self.msgs), (self.ev_q, self.events)):
                while True:
                    m, props, body = ch.basic_get(q, auto_ack=True)
                    if m is None:
                        break
                    if q == self.out_q:
                        sink.append(parse_envelope(body))
                    else:
                        sink.extend(event_docs(body))
        finally:
            c.close()

    def messages(self, job):
        self._pull()
        return [(e, r) for e, r in self.msgs if e["job"] == job]

    def job_events(self, job):
        self._pull()
        return [e for e in self.events if e.get("job") == job]

    def wait_messages(self, job, n, timeout=30):
        return wait_until(lambda: (lambda m: m if len(m) >= n else None)(self.messages(job)),
                          timeout, "%d message(s) of job %s from render" % (n, job))

    def wait_events(self, job, pred, timeout=30, what="events"):
        return wait_until(lambda: (lambda e: e if pred(e) else None)(self.job_events(job)), timeout, what)

    def delete(self):
        c = amqp()
        try:
            ch = c.channel()
            ch.queue_delete(self.out_q)
            ch.queue_delete(self.ev_q)
        finally:
            c.close()


# ------------------------------------------------------------------ accounts

def demo_account():
    """The stack's demo account (example.com and demo.test registered, published in DNS)."""
    row = sql("SELECT a.id, d.id FROM account a JOIN sender_domain d ON d.account_id=a.id "
              "WHERE a.name=%s AND d.domain='example.com'", E["TXMAIL_DEMO_ACCOUNT"])[0]
    return {"id": row[0], "domain": "example.com", "domain_id": row[1], "name": E["TXMAIL_DEMO_ACCOUNT"]}


def account_with_domain(ed25519=False, publish=True, **opts):
    """A fresh account with a sender domain <name>.test; opts: bounce_domain, message_id_domain,
    dkim_policy. Published in the stack's DNS unless publish=False."""
    a = new_account(domain=uniq("sd") + ".test")
    if ed25519 or opts:
        # replace the domain with one carrying the options
        sql("DELETE FROM sender_domain WHERE account_id=%s", a["id"])
        args = ["domain", "add", a["name"], a["domain"], "--selector", "s1"]
        if ed25519:
            args.append("--ed25519")
        if opts.get("bounce_domain"):
            args += ["--bounce-domain", opts["bounce_domain"]]
        if opts.get("message_id_domain"):
            args += ["--message-id-domain", opts["message_id_domain"]]
        if opts.get("dkim_policy"):
            args += ["--dkim-policy", opts["dkim_policy"]]
        ctl(*args)
    a["domain_id"] = sql("SELECT id FROM sender_domain WHERE account_id=%s AND domain=%s",
                         a["id"], a["domain"])[0][0]
    if publish:
        stack("publish-dns")
    return a


# ------------------------------------------------------------------ jobs

def now_ms():
    return int(time.time() * 1000)


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)


def rid(job, block, addr):
    return "%s#%08x#%08x" % (job, block, addr)


def tag(r, phase, state, typ, sub, key="1"):
    return hashlib.sha256("\n".join([r, phase, state, typ, sub, key]).encode()).hexdigest()


_ADDR = re.compile(r'^\s*(?:(.*?)\s*<([^<>]+)>|([^<>\s]+))\s*$', re.S)


def parse_addr(s):
    """(email trimmed, bare, display) like lib/global/addr.c for the simple shapes tests use."""
    m = _ADDR.match(s)
    if not m:
        return s.strip(), None, None
    if m.group(2):
        disp = m.group(1).strip()
        if len(disp) >= 2 and disp[0] == '"' and disp[-1] == '"':
            disp = disp[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        bare = m.group(2)
    else:
        disp, bare = None, m.group(3)
    local, _, dom = bare.rpartition("@")
    if not local or "." not in dom:
        return s.strip(), None, None
    return s.strip(), local + "@" + dom.lower(), disp or None


def address(s):
    if not s:
        return None
    e, a, d = parse_addr(s)
    return {"email": e, "addr": a, "display": d}


def text_part(p, with_type=False):
    if p is None:
        return None
    o = {}
    if with_type:
        o["contentType"] = p["contentType"]
    tpl = p.get("template")
    o["text"] = tpl if tpl is not None else p.get("content", "")
    o["template"] = tpl is not None
    o["charset"] = p.get("charset", "UTF-8")
    o["cte"] = p.get("contentTransferEncoding")
    return o


def rest_data(acct, req, job, drops=None, received=None):
    """Normalize a JobRequest as txmail-rest does (docs/ENVELOPES.md): effective block values,
    recipient ids, drop info. drops: {(block, kind, j): (subType, description[, suppression])}."""
    drops = drops or {}
    mail = req.get("mail", {})
    blocks = []
    n = 0
    for i, b in enumerate(req["recipients"]):
        bm = b.get("mail", {})
        lists = {}
        for kind in ("to", "cc", "bcc"):
            out = []
            for j, x in enumerate(bm.get(kind, [])):
                e, a, d = parse_addr(x["email"])
                dr = drops.get((i, kind, j))
                if a is None and dr is None:
                    dr = ("INVALID_ADDRESS", None)
                drop = {"subType": dr[0], "description": dr[1]} if dr else None
                if dr and len(dr) > 2:
                    drop["suppression"] = dr[2]
                out.append({"rid": rid(job, i, n), "index": n, "email": e, "addr": a, "display": d,
                            "utf8": bool(a and any(ord(c) > 127 for c in a.split("@")[0])),
                            "drop": drop})
                n += 1
            lists[kind] = out
        xh = dict(mail.get("xHeaders", {}))
        for k, v in bm.get("xHeaders", {}).items():
            for old in list(xh):
                if old.lower() == k.lower():
                    del xh[old]
            xh[k] = v
        feat = b.get("features", {})
        jf = req.get("job", {}).get("features", {})

        def eff(name):
            v = bm.get(name, mail.get(name))
            return v if v not in ("", None) else None
        blocks.append(dict({"index": i, "reference": b.get("reference"),
                            "replyTo": address((bm.get("replyTo") or mail.get("replyTo") or {}).get("email")),
                            "inReplyTo": eff("inReplyTo"), "priority": eff("priority"),
                            "listUnsubscribe": eff("listUnsubscribe"), "xHeaders": xh,
                            "openTracking": feat.get("openTracking", jf.get("openTracking", {})).get("active", False),
                            "linkTracking": feat.get("linkTracking", jf.get("linkTracking", {})).get("active", False),
                            "personalization": feat.get("templating", {}).get("personalization")},
                           **lists))
    received = received or now_ms()
    return {
        "entry": "rest", "receivedTs": iso(received),
        "account": {"id": acct["id"], "name": acct.get("name", ""), "customerNo": "4711", "tenant": None},
        "senderDomain": {"id": acct["domain_id"], "domain": acct["domain"]},
        "referenceJob": req.get("job", {}).get("referenceJob"),
        "costCenter": req.get("job", {}).get("costCenter"),
        "campaignId": req.get("job", {}).get("campaignId"),
        "subject": text_part(req.get("subject")),
        "body": text_part(req.get("body"), True),
        "alternative": text_part(req.get("alternative")),
        "attachments": [{"name": a["name"], "contentType": a["contentType"], "contentId": a.get("contentId"),
                         "secureDocument": a.get("secureDocument", False),
                         "data": a["content"].replace("\n", "").replace("\r", "")}
                        for a in req.get("attachments", [])],
        "mail": {"from": address(mail["from"]["email"]),
                 "mimeFrom": address((mail.get("mimeFrom") or {}).get("email")),
                 "replyTo": address((mail.get("replyTo") or {}).get("email")),
                 "inReplyTo": mail.get("inReplyTo"), "priority": mail.get("priority"),
                 "listUnsubscribe": mail.get("listUnsubscribe"), "xHeaders": mail.get("xHeaders", {})},
        "blocks": blocks,
        "options": {"antivirus": {"active": False, "scope": "attachments"}, "traceRecover": {"active": False},
                    "secureDocument": {"active": False, "filename": "documents",
                                       "subjectPrefix": "Password for:", "passwordType": "high"},
                    "spamCheck": {"active": False, "mode": "score-only", "threshold": 5.0},
                    "messageSigning": {"active": False}},
        "settings": {"autoEscapeHtml": False, "oneClickUnsubscribe": False, "trackingWindowDays": 10},
    }


def smtp_data(acct, job, mail_from, rcpts, mime_from=None, received=None, drops=None):
    drops = drops or {}
    received = received or now_ms()
    out = []
    for n, r in enumerate(rcpts):
        dr = drops.get(n)
        out.append({"rid": rid(job, n, n), "index": n, "email": r, "addr": r, "utf8": False,
                    "drop": {"subType": dr[0], "description": dr[1]} if dr else None})
    return {"entry": "smtp", "receivedTs": iso(received),
            "account": {"id": acct["id"], "name": acct.get("name", ""), "customerNo": "4711", "tenant": None},
            "senderDomain": {"id": acct["domain_id"], "domain": acct["domain"]},
            "mailFrom": mail_from, "mimeFrom": mime_from, "referenceJob": None, "costCenter": None,
            "campaignId": None, "recipients": out, "smtputf8": False, "eightbit": False,
            "options": {"antivirus": {"active": False}, "traceRecover": {"active": False},
                        "messageSigning": {"active": False}},
            "settings": {"autoEscapeHtml": False, "oneClickUnsubscribe": False, "trackingWindowDays": 10}}


def new_job():
    return str(uuid.uuid4())


def job_row(job, acct, received, entry="rest", slip="render,deliver", status=200, mail_from="x@example.com"):
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(received / 1000)) + ".%03d" % (received % 1000)
    sql("INSERT INTO job (job_id, account_id, entry, received_at, http_status, answer, mail_from, slip, "
        "recipients) VALUES (%s, %s, %s, %s, %s, '{}', %s, %s, 1)",
        job, acct["id"], entry, ts, status, mail_from, slip)


def submit(acct, job, data, stage="render", raw=b"", row=True, created=None, slip=None):
    """Acceptance record + the job envelope to stage (the order of a producer is the reverse;
    render waits for the record either way)."""
    created = created or now_ms()
    if row:
        job_row(job, acct, created, entry=data["entry"])
    publish("txmail.work", stage, envelope_bytes(job, slip or [stage, "deliver"], data, acct["id"], raw, created))


def envelope_bytes(job, slip, data, account, raw=b"", created=None):
    e = {"v": 1, "type": "job", "job": job, "account": account, "slip": slip, "attempt": 0,
         "deferrals": 0, "created": created or now_ms(), "data": data, "raw_len": len(raw)}
    return json.dumps(e, separators=(",", ":")).encode() + b"\n" + raw


# ------------------------------------------------------------------ messages

def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def check_wire(raw, what):
    """CRLF line ends only, no line over 998 octets."""
    lines = raw.split(b"\r\n")
    check(all(b"\n" not in l and b"\r" not in l for l in lines), "%s: CRLF line ends only" % what)
    longest = max(len(l) for l in lines)
    check(longest <= 998, "%s: no line over 998 octets (longest %d)" % (what, longest))


def header_block(raw):
    return raw.split(b"\r\n\r\n", 1)[0]


def body_of(raw):
    return raw.split(b"\r\n\r\n", 1)[1]


def master_key():
    with open(E["TXMAIL_STACK_DIR"] + "/secrets/master_key") as f:
        return bytes.fromhex(f.read().strip())


def verp_decode(local):
    """Decode a txmail VERP local part (lib/global/verp.h) independently; returns the rid or None."""
    import hmac
    local = local.lower()
    if len(local) != 57 or not local.startswith("b1"):
        return None
    b32 = local[2:].upper()
    raw = base64.b32decode(b32 + "=" * ((8 - len(b32) % 8) % 8))
    ident, t = raw[:24], raw[24:34]
    key = hmac.new(master_key(), b"txmail-verp-v1", hashlib.sha256).digest()
    if hmac.new(key, ident, hashlib.sha256).digest()[:10] != t:
        return None
    u = uuid.UUID(bytes=ident[:16])
    return "%s#%08x#%08x" % (u, int.from_bytes(ident[16:20], "big"), int.from_bytes(ident[20:24], "big"))
