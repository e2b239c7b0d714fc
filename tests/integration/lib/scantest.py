"""Helpers of the scan stage's cases (350-356): accounts with the antivirus
feature, REST and SMTP submissions with attachments, the events of a job's
addresses, txmail-scan's log."""
import base64
import io
import re
import zipfile

from txtest import *
import txrest
import smtpdtest

# the EICAR test file, in two halves so this source is not itself a test file
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STAND" + "ARD-ANTIVIRUS-TEST-FILE!$H+H*"
MARKER = "TXMAIL-YARA-TEST-MARKER-7F3C9A"  # only conf/yara knows it
LDB = "TXMAIL-LDB-PART-ONE ... TXMAIL-LDB-PART-TWO"  # conf/clamav/txmail-test.ldb
LOG = os.path.join(E["TXMAIL_STACK_DIR"], "log", "scan-1.log")
_dns = []


def av_account(scope=None):
    """A new account with the antivirus feature (default scope for SMTP jobs)."""
    s = {"features": {"antivirus": True}}
    if scope:
        s["defaults"] = {"antivirusScope": scope}
    a = new_account(settings=s)
    if not _dns:
        stack("publish-dns")
        _dns.append(1)
    return a


def zip_of(name, data):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return b.getvalue()


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def rest_job(acct, to, attachments=(), body="Hello, a clean body.\n", scope="attachments", cc=(),
             html=False, active=True, timeout=120):
    """POST a job; returns (jobId, [rid of each to, then cc]). attachments: (name, bytes)."""
    req = {"subject": {"content": "scan test"},
           "body": {"contentType": "text/html" if html else "text/plain", "content": body},
           "recipients": [{"mail": {"to": [{"email": t} for t in to], "cc": [{"email": c} for c in cc]}}],
           "mail": {"from": {"email": "Sender <sender@%s>" % acct["domain"]}},
           "job": {"options": {"antivirus": {"active": active, "scope": scope}}}}
    if attachments:
        req["attachments"] = [{"name": n, "contentType": "application/octet-stream", "content": b64(d)}
                              for n, d in attachments]
    cl = txrest.Client(user=acct["user"], password=acct["password"], timeout=timeout)
    st, _, _, doc = cl.post(req)
    cl.close()
    eq(st, 200, "job accepted (%r)" % ((doc or {}).get("meta"),))
    m = doc["content"]["recipients"][0]["mail"]
    return doc["meta"]["jobId"], [a["id"] for a in m.get("to", []) + m.get("cc", [])]


def smtp_job(acct, rcpts, msg):
    """Submit msg (bytes, CRLF) with X-RETARUS-M4A-ANTIVIRUS-ACTIVE; returns the job id."""
    code, text = smtpdtest.send(b"X-RETARUS-M4A-ANTIVIRUS-ACTIVE: true\r\n" + msg,
                                "sender@" + acct["domain"], rcpts, user=acct["user"],
                                password=acct["password"])
    eq(code, 250, "SMTP submission accepted (%s)" % text)
    return smtpdtest.queued_id(text)


def rids_of(job):
    return [r[0] for r in sql("SELECT rid FROM message WHERE job_id=%s ORDER BY rid", job)]


def events(rid, sub=None):
    rows = sql("SELECT phase, state, type, subtype, description, notification FROM event WHERE rid=%s ORDER BY seq",
               rid)
    out = [dict(phase=r[0], state=r[1], type=r[2], subType=r[3], description=r[4],
                notification=json.loads(r[5]) if r[5] else None) for r in rows]
    return [e for e in out if sub is None or e["subType"] == sub]


def wait_final(rid, sub, timeout=60):
    return wait_until(lambda: events(rid, sub) or None, timeout, "%s for %s" % (sub, rid))[0]


def infected_of(ev):
    """content.antivirus.infected of an event's notification."""
    n = ev["notification"] or {}
    return ((n.get("content") or {}).get("antivirus") or {}).get("infected")


def log_lines(needle, path=LOG):
    with open(path, errors="replace") as f:
        return [l for l in f if needle in l]


def wait_log(needle, timeout=60, path=LOG):
    return wait_until(lambda: log_lines(needle, path) or None, timeout, "log line with %s" % needle)


def mime(parts, boundary="b1"):
    """A multipart/mixed body of raw part strings (each headers CRLF CRLF content)."""
    out = "Content-Type: multipart/mixed; boundary=\"%s\"\r\nMIME-Version: 1.0\r\n\r\n" % boundary
    for p in parts:
        out += "--%s\r\n%s\r\n" % (boundary, p)
    return out + "--%s--\r\n" % boundary


def message(frm, to, subject, body_headers_and_body):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n%s" % (frm, to, subject, body_headers_and_body)).encode()


def stack_scan_pid():
    """The stack's txmail-scan child, once it runs (a case before may have just restored it)."""
    path = os.path.join(E["TXMAIL_STACK_DIR"], "log", "scan-1.log.pid")

    def alive():
        try:
            pid = int(open(path).read())
        except (OSError, ValueError):
            return None
        return pid if os.path.exists("/proc/%d" % pid) else None

    pid = wait_until(alive, 60, "the stack's txmail-scan running")
    time.sleep(0.5)
    return pid


def own_scanner(*args, log_name=None):
    """instead_of_stack("scan", ...) once the stack's scanner is up."""
    stack_scan_pid()
    return instead_of_stack("scan", *args, log_name=log_name)
