"""inboundtest - helpers for the cases of txmail-smtpd's inbound policy
(tests/integration/43x): VERP addresses made independently of the C code,
accounts with a bounce domain, a private inbound instance publishing to a
queue the case declares and reads itself (the stack's instance publishes
to "bounce", which the stack's bounce worker consumes)."""
import base64
import hashlib
import hmac
import uuid

from txtest import E, declare_queue, drain, eq, new_account, parse_envelope, sql, uniq, wait_until
from smtpdtest import Raw, private_smtpd, stuff

USER_UNKNOWN = "550 5.1.1 <%s>: Recipient address rejected: User unknown"
RELAY_DENIED = "550 5.7.1 <%s>: relaying denied"
TEMP = "451 4.3.0 Temporary failure, please retry"


def master_key():
    with open(E["TXMAIL_STACK_DIR"] + "/secrets/master_key") as f:
        return bytes.fromhex(f.read().strip())


def verp_local(rid):
    """The VERP local part of rid (lib/global/verp.h), made in Python."""
    job, block, addr = rid.split("#")
    ident = uuid.UUID(job).bytes + int(block, 16).to_bytes(4, "big") + int(addr, 16).to_bytes(4, "big")
    key = hmac.new(master_key(), b"txmail-verp-v1", hashlib.sha256).digest()
    tag = hmac.new(key, ident, hashlib.sha256).digest()[:10]
    return "b1" + base64.b32encode(ident + tag).decode().rstrip("=").lower()


def new_rid(block=0, addr=0):
    return "%s#%08x#%08x" % (uuid.uuid4(), block, addr)


def bounce_account(bounce_domain=None):
    """A fresh account whose sender domain has a bounce domain; adds "bounce" (the domain)."""
    a = new_account(domain=uniq("in") + ".test")
    a["bounce"] = bounce_domain or uniq("bounces") + ".example.net"
    sql("UPDATE sender_domain SET bounce_domain=%s WHERE account_id=%s", a["bounce"], a["id"])
    return a


def inbound_queue(name):
    """A private quorum queue bound to txmail.work with its own name as key, empty."""
    declare_queue(name, "txmail.work", name)
    drain(name)
    return name


def private_inbound(queue, *overrides, name="smtpd-inbound-private", port=None):
    """A private txmail-smtpd with smtpd_policy = inbound publishing to queue; (Program, port)."""
    return private_smtpd("smtpd_policy=inbound", "smtpd_inbound_queue=" + queue, *overrides, name=name,
                         port=port)


def envelopes(queue, n, timeout=15):
    """Exactly the next n inbound envelopes of queue: [(envelope, raw)] (waits for them, then a little more)."""
    got = []

    def look():
        for _, body in drain(queue, timeout=0.2):
            got.append(parse_envelope(body))
        return len(got) >= n
    wait_until(look, timeout, "%d envelope(s) in %s" % (n, queue))
    for _, body in drain(queue, timeout=1.0):
        got.append(parse_envelope(body))
    eq(len(got), n, "envelopes in %s" % queue)
    return got


def session(port, tls=False, helo="mx.sender.example"):
    c = Raw(port=port)
    code, text = c.ehlo(helo)
    eq(code, 250, "EHLO")
    if tls:
        c.starttls()
        c.ehlo(helo)
    return c


def send(c, mail_from, rcpts, msg):
    """MAIL, RCPTs, DATA; returns ([rcpt answers], final answer or None when DATA was refused)."""
    eq(c.cmd("MAIL FROM:<%s>" % mail_from)[1], "250 2.1.0 Ok", "MAIL FROM:<%s>" % mail_from)
    answers = [c.cmd("RCPT TO:<%s>" % r)[1] for r in rcpts]
    code, text = c.cmd("DATA")
    if code != 354:
        return answers, None
    c.send(stuff(msg))
    return answers, c.reply()[1]
