"""fwdtest - `type:"forward"` envelopes for the txmail-deliver cases 510-512
(docs/ENVELOPES.md "Forward envelope")."""
import json
import secrets
import time
import uuid


def forward_id():
    return "fw" + secrets.token_hex(16)


def forward(rcpt, raw, mail_from="replies@bounce.example.com", rid="", why="reply", fid=None,
            account=1, queue="deliver", created=None, **data):
    """(data.id, broker body) of a forward envelope; data overrides/extends the data members."""
    fid = fid or forward_id()
    d = {"id": fid, "why": why, "mailFrom": mail_from, "rcpt": rcpt}
    d.update(data)
    d = {k: v for k, v in d.items() if v is not None}
    e = {"v": 1, "type": "forward", "job": rid.split("#")[0] if rid else str(uuid.uuid4()), "rid": rid,
         "account": account, "slip": [queue], "attempt": 0, "deferrals": 0,
         "created": created if created is not None else int(time.time() * 1000),
         "data": d, "raw_len": len(raw)}
    return fid, json.dumps(e, separators=(",", ":")).encode() + b"\n" + raw


def reply_raw(rcpt, body=b"Thanks, that works.\r\n"):
    return (b"From: A Customer <customer@example.org>\r\nTo: " + rcpt.encode() +
            b"\r\nSubject: Re: your order\r\nMessage-ID: <" + uuid.uuid4().hex.encode() +
            b"@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body)


def job_of(body):
    return json.loads(body[:body.index(b"\n")])["job"]


def event_rows(bodies, *ids):
    """Rows of `event` for the jobs of the envelopes in bodies or any of ids (rids, data.id)."""
    from txtest import sql
    jobs = sorted({job_of(b) for b in bodies})
    keys = [i for i in ids if i]
    q = "SELECT rid, type FROM event WHERE job_id IN (%s)" % ",".join(["%s"] * len(jobs))
    if keys:
        q += " OR rid IN (%s)" % ",".join(["%s"] * len(keys))
    return sql(q, *(jobs + keys))
