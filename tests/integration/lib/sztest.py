"""Helpers of the Secure Document Handling cases (360-364): an account with
the feature, a request in the shape of the contract's
secure-document-fragment.json sample, the messages at the sink, the ZIP
read back with the real tools (7zz, bsdtar) and the password mail's job id."""
import base64
import email
import email.policy
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import uuid as uuidmod

from txtest import *
import txrest

PW_TEXT = "Your file {filename} opens with the password: {password} (keep it safe)"
PW_RE = re.compile(r"opens with the password: (\S+) \(keep it safe\)")
ALPHABET = set("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789")


def need_scan():
    """scan always runs before securezip: these cases need txmail-scan"""
    b = E.get("TXMAIL_BUILD", "build")
    check(os.path.exists(os.path.join(b if os.path.isabs(b) else os.path.join(REPO, b), "bin", "txmail-scan")),
          "txmail-scan is built (Secure Document Handling needs the scan stage)")


def sdh_account(**extra):
    settings = {"features": {"secureDocument": True, "antivirus": True, "tracking": True},
                "passwordMailText": PW_TEXT}
    settings.update(extra)
    acct = new_account(settings=settings)
    acct["client"] = txrest.Client(user=acct["user"], password=acct["password"])
    return acct


def sdh_request(acct, blocks, flagged=b"secret document\n", subject="Your documents", pwtype="high",
                filename="test", extra_attachments=None):
    """The sample's shape: name1.txt flagged (with a contentId), name2.pdf not."""
    req = sample("secure-document-fragment.json")
    req["attachments"][0]["content"] = base64.b64encode(flagged).decode()
    req["attachments"] += extra_attachments or []
    req["secureDocument"]["filename"] = filename
    req["secureDocument"]["subjectPrefix"] = "Password for:"
    req["secureDocument"]["password"]["type"] = pwtype
    req["subject"] = {"content": subject}
    req["body"] = {"contentType": "text/plain", "content": "Please find the documents attached."}
    req["mail"] = {"from": {"email": "Sender <sender@%s>" % acct["domain"]}}
    req["recipients"] = [{"mail": {"to": [{"email": a} for a in b]}} for b in blocks]
    return req


def submit(acct, req):
    st, _, data, doc = acct["client"].post(req)
    if st != 200:
        fail("job not accepted: %r %s" % (st, data[:400]))
    return doc["meta"]["jobId"]


def pw_job_id(rid):
    """The password mail's job id: UUID version 8 of SHA-256("pwmail\\n" + rid)."""
    b = bytearray(hashlib.sha256(("pwmail\n" + rid).encode()).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x80
    b[8] = (b[8] & 0x3F) | 0x80
    return str(uuidmod.UUID(bytes=bytes(b)))


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def arrival(meta):
    """The sink's arrival time: <ms>-<pid>-<seq>.eml"""
    return tuple(int(x) for x in os.path.basename(meta["path"])[:-4].split("-"))


def split_mails(rcpt, prefix="Password for:"):
    """(main messages, password mails) at the sink for rcpt, in arrival order."""
    got = sorted(sink_for(rcpt), key=lambda mr: arrival(mr[0]))
    main = [(m, parse(r)) for m, r in got if not str(parse(r)["Subject"]).startswith(prefix)]
    pw = [(m, parse(r)) for m, r in got if str(parse(r)["Subject"]).startswith(prefix)]
    return main, pw


def password_of(msg):
    text = msg.get_body(("plain",)).get_content()
    m = PW_RE.search(text)
    check(m is not None, "the password mail's text has the password: %r" % text[:200])
    return m.group(1)


def zip_of(msg, name):
    parts = [p for p in msg.iter_attachments() if p.get_filename() == name]
    eq(len(parts), 1, "one %s attachment" % name)
    eq(parts[0].get_content_type(), "application/zip", "%s is application/zip" % name)
    return parts[0].get_content()


class ZipFile:
    """The ZIP in a temporary directory, opened with 7zz and bsdtar."""

    def __init__(self, data):
        self.n = 0
        self.dir = tempfile.mkdtemp(prefix="sz")
        self.path = os.path.join(self.dir, "a.zip")
        with open(self.path, "wb") as f:
            f.write(data)

    def run(self, *args):
        p = subprocess.run(list(args), capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")

    def test_7zz(self, pw):
        return self.run("7zz", "t", "-p" + pw, self.path)[0] == 0

    def list_slt(self, pw):
        return self.run("7zz", "l", "-slt", "-p" + pw, self.path)[1]

    def extract_7zz(self, pw):
        self.n += 1
        out = os.path.join(self.dir, "x7-%d" % self.n)
        rc, txt = self.run("7zz", "x", "-y", "-p" + pw, "-o" + out, self.path)
        return self._files(out) if rc == 0 else None

    def extract_bsdtar(self, pw):
        self.n += 1
        out = os.path.join(self.dir, "xb-%d" % self.n)
        os.makedirs(out, exist_ok=True)
        rc, txt = self.run("bsdtar", "--passphrase", pw, "-xf", self.path, "-C", out)
        return self._files(out) if rc == 0 else None

    @staticmethod
    def _files(d):
        res = {}
        for root, _, files in os.walk(d):
            for fn in files:
                with open(os.path.join(root, fn), "rb") as f:
                    res[os.path.relpath(os.path.join(root, fn), d)] = f.read()
        return res

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def followups(job):
    return [r[0] for r in sql("SELECT job_id FROM job WHERE parent_job_id=%s ORDER BY job_id", job)]


def stack_logs():
    d = os.path.join(E["TXMAIL_STACK_DIR"], "log")
    out = b""
    for fn in os.listdir(d):
        with open(os.path.join(d, fn), "rb") as f:
            out += f.read()
    return out
