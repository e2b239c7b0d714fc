"""txevents - build and publish txmail events, intake records and job rows
for the recorder and notify cases (tests/integration/30x-34x).

Events are built exactly like lib/global/event.c event_json() builds them
(broker form, tag of contract §11.5); notification() mirrors
event_notification() (the element of notifications[], contract §11.4).
"""
import base64
import datetime
import hashlib
import json
import os
import time
import uuid

from txtest import E, amqp, sql

EMPTY = object()


def now_ms():
    return int(time.time() * 1000)


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def sqltime(ms):
    """A DATETIME(3) literal (UTC) for ms."""
    return iso(ms)[:-1].replace("T", " ")


def ms_of(dt):
    """ms of a naive UTC datetime read from the database."""
    if dt is None:
        return None
    return int(round(dt.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000))


def day(ms):
    return datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc).date()


def new_job_id():
    return str(uuid.uuid4())


def rid(job, block=0, addr=0):
    return "%s#%08x#%08x" % (job, block, addr)


def tag(r, phase, state, typ, sub, key="1"):
    return hashlib.sha256("\n".join([r, phase, state, typ, sub, key]).encode()).hexdigest()


def event(account, job, r, received, phase, state, typ, sub, ts=None, key="1", description=None,
          email=None, frm=None, mime_from=None, rewrite_from=None, reference=None,
          content=None, message_id=None, smtp_code=None, size=None, x=None):
    """An event in broker form (event_json)."""
    ts = ts if ts is not None else now_ms()
    o = {"v": 1, "tag": tag(r, phase, state, typ, sub, key), "account": account}
    if job:
        o["job"] = job
    o["rid"] = r
    o["received"] = received
    o.update({"phase": phase, "state": state, "type": typ, "subType": sub, "ts": iso(ts),
              "ts_ms": ts, "eventKey": key})
    if description:
        o["description"] = description
    mail = {}
    for k, v in (("email", email), ("from", frm), ("mimeFrom", mime_from),
                 ("rewriteFrom", rewrite_from), ("reference", reference)):
        if v:
            mail[k] = v
    o["mail"] = mail
    c = json.loads(json.dumps(content)) if content else {}
    if message_id:
        c.setdefault("mime", {})["messageId"] = message_id
    o["content"] = c
    if smtp_code:
        o["smtpCode"] = smtp_code
    if size is not None:
        o["size"] = size
    if x is not None:
        o["x"] = x
    return o


def notification(ev):
    """The notification element of an event (event_notification)."""
    mail = {"id": ev["rid"]}
    for k in ("email", "from", "mimeFrom", "rewriteFrom", "reference"):
        if ev.get("mail", {}).get(k):
            mail[k] = ev["mail"][k]
    e = {k: ev[k] for k in ("phase", "state", "type", "subType", "ts") if ev.get(k)}
    if ev.get("description"):
        e["description"] = ev["description"]
    n = {"meta": {"tag": ev["tag"], "mail": mail, "event": e}}
    if ev.get("content"):
        n["content"] = ev["content"]
    return n


def intake(account, job, received, recipients, entry="rest", mail_from="Sender <sender@example.com>",
           mime_from=None, sender_domain_id=None, reference_job=None):
    """An intake record; recipients: list of dicts (rid, block, index, kind, email, addr,
    reference, dropped)."""
    return {"v": 1, "type": "INTAKE", "phase": "INTAKE", "account": account, "job": job,
            "received": received, "entry": entry, "mailFrom": mail_from, "mimeFrom": mime_from,
            "referenceJob": reference_job, "costCenter": None, "campaignId": None,
            "senderDomainId": sender_domain_id, "recipients": recipients}


def recipient(job, block, index, email, addr=None, kind="to", reference=None, dropped=False):
    return {"rid": rid(job, block, index), "block": block, "index": index, "kind": kind,
            "email": email, "addr": addr or email.split("<")[-1].rstrip(">").strip().lower(),
            "reference": reference, "dropped": dropped}


class Publisher:
    """One confirmed channel for many publishes."""

    def __init__(self):
        self.conn = amqp()
        self.ch = self.conn.channel()
        self.ch.confirm_delivery()

    def raw(self, exchange, key, body, headers=None):
        import pika
        if isinstance(body, str):
            body = body.encode()
        self.ch.basic_publish(exchange, key, body,
                              pika.BasicProperties(delivery_mode=2, headers=headers), mandatory=True)

    def event(self, ev, exchange="txmail.events", key=None):
        if key is None:
            key = "intake.job" if ev.get("type") == "INTAKE" else "%s.%s" % (ev["type"], ev["subType"])
        self.raw(exchange, key, json.dumps(ev, separators=(",", ":")))

    def close(self):
        self.conn.close()


def publish_events(evs, exchange="txmail.events", key=None):
    p = Publisher()
    try:
        for ev in evs:
            p.event(ev, exchange, key)
    finally:
        p.close()


def encrypt(plain):
    """secret_encrypt() of lib/global/crypto.c with the stack's master key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    with open(os.path.join(E["TXMAIL_STACK_DIR"], "secrets", "master_key")) as f:
        key = bytes.fromhex(f.read().strip())
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, plain.encode() if isinstance(plain, str) else plain, None)
    return "v1:" + base64.b64encode(nonce + ct).decode()


def insert_job(account, job=None, received=None, notification=None, reference_job=None,
               cost_center=None, campaign_id=None, mail_from="sender@example.com", recipients=1):
    """Insert an acceptance record (job row); notification: the endpoint dict of contract
    §4.11 (its password is encrypted here)."""
    job = job or new_job_id()
    received = received or now_ms()
    n = None
    if notification is not None:
        n = json.loads(json.dumps(notification))
        auth = n.get("authentication")
        if auth and auth.get("password") is not None:
            auth["password"] = encrypt(auth["password"])
        n = json.dumps(n)
    sql("INSERT INTO job (job_id, account_id, entry, received_at, http_status, answer, mail_from, "
        "reference_job, cost_center, campaign_id, notification, slip, recipients) "
        "VALUES (%s, %s, 'rest', %s, 200, '{}', %s, %s, %s, %s, %s, 'render,deliver', %s)",
        job, account, sqltime(received), mail_from, reference_job, cost_center, campaign_id, n,
        recipients)
    return job, received
