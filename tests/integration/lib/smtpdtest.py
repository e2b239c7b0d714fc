"""smtpdtest - helpers for the txmail-smtpd integration cases (tests/integration/4xx).

Raw is a byte-exact SMTP client (the cases check every reply, pipeline
commands and misbehave on purpose); jobs are observed on a private queue
bound to txmail.work with key "render" (the stack's render worker consumes
the real "render" queue), and acceptance records in the job table.
"""
import base64
import os
import re
import socket
import ssl
import subprocess
import time

from txtest import E, Program, amqp, declare_queue, drain, eq, fail, parse_envelope, sql, wait_until, log

HOST = "127.0.0.1"
PORT = int(E["TXMAIL_SMTP_PORT"])
SPORT = int(E["TXMAIL_SMTPS_PORT"])
DEMO = (E["TXMAIL_DEMO_USER"], E["TXMAIL_DEMO_PASSWORD"])
MYHOST = "txmail.test"
QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})$")


def tls_context():
    ctx = ssl.create_default_context(cafile=E["TXMAIL_TLS_CA"])
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class Raw:
    """One SMTP connection. reply() returns (code, text) with the lines of a
    multi-line reply joined by newlines (each line without its code)."""

    def __init__(self, port=PORT, implicit=False, source=None, timeout=20, greet=True):
        self.sock = socket.create_connection((HOST, port), timeout,
                                             source_address=(source, 0) if source else None)
        if implicit:
            self.sock = tls_context().wrap_socket(self.sock, server_hostname="localhost")
        self.buf = b""
        self.greeting = self.reply() if greet else None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if len(ln) < 4 or ln[3] != "-":
                break
        code = int(lines[0][:3]) if lines[0][:3].isdigit() else 0
        if len(lines) == 1:
            return code, lines[0]
        return code, "\n".join(l[4:] for l in lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def ehlo(self, name="client.example.test"):
        return self.cmd("EHLO " + name)

    def starttls(self):
        code, text = self.cmd("STARTTLS")
        if code != 220:
            fail("STARTTLS answered %r" % text)
        self.sock = tls_context().wrap_socket(self.sock, server_hostname="localhost")
        return code, text

    def auth_plain(self, user, password):
        tok = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        return self.cmd("AUTH PLAIN " + tok)

    def login(self, user=None, password=None, tls=True):
        """EHLO, STARTTLS, EHLO, AUTH PLAIN; fails the case on any surprise."""
        user, password = (user, password) if user else DEMO
        self.ehlo()
        if tls:
            self.starttls()
            self.ehlo()
        code, text = self.auth_plain(user, password)
        if code != 235:
            fail("AUTH answered %r" % text)

    def closed(self, timeout=5):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def message(mail_from="sender@example.com", to="rcpt@example.test", subject="test", body="hello\r\n",
            extra=""):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n%s\r\n%s" % (mail_from, to, subject, extra, body)).encode()


def stuff(msg):
    """Dot-stuff a CRLF message and add the final dot."""
    if not msg.endswith(b"\r\n"):
        msg += b"\r\n"
    out = b"\r\n".join((b"." + l if l.startswith(b".") else l) for l in msg.split(b"\r\n")[:-1])
    return out + b"\r\n.\r\n"


def transaction(c, mail_from, rcpts, msg, mail_params=""):
    """MAIL, RCPT..., DATA, message; returns the list of (code, text) answers."""
    out = [c.cmd("MAIL FROM:<%s>%s" % (mail_from, (" " + mail_params) if mail_params else ""))]
    for r in rcpts:
        out.append(c.cmd("RCPT TO:<%s>" % r))
    out.append(c.cmd("DATA"))
    if out[-1][0] == 354:
        c.send(stuff(msg))
        out.append(c.reply())
    return out


def queued_id(text):
    m = QUEUED.match(text)
    return m.group(1) if m else None


def send(msg, mail_from, rcpts, user=None, password=None, port=PORT, mail_params=""):
    """A whole submission over STARTTLS + AUTH; returns the final (code, text)."""
    c = Raw(port=port)
    c.login(user, password)
    res = transaction(c, mail_from, rcpts, msg, mail_params)
    c.cmd("QUIT")
    c.close()
    return res[-1]


# ------------------------------------------------------------------ jobs

def job_queue(name):
    """A private quorum queue that receives every job for the render stage."""
    declare_queue(name, "txmail.work", "render")
    drain(name)
    return name


def delete_queue(name):
    c = amqp()
    try:
        c.channel().queue_delete(name)
    finally:
        c.close()


_seen = {}


def wait_job(queue, job_id, timeout=15):
    """The job's envelope and raw message from the private queue."""
    def look():
        for _, body in drain(queue, timeout=0.2):
            env, raw = parse_envelope(body)
            _seen[env["job"]] = (env, raw)
        return _seen.get(job_id)
    return wait_until(look, timeout, "job %s in queue %s" % (job_id, queue))


def jobs_seen(queue, wait=1.0):
    """Every job that arrived in the queue (after waiting a little)."""
    time.sleep(wait)
    for _, body in drain(queue, timeout=0.2):
        env, raw = parse_envelope(body)
        _seen[env["job"]] = (env, raw)
    return dict(_seen)


def job_row(job_id):
    rows = sql("SELECT job_id, account_id, entry, http_status, answer, mail_from, reference_job, cost_center, "
               "campaign_id, notification, slip, recipients FROM job WHERE job_id=%s", job_id)
    if not rows:
        return None
    keys = ["job_id", "account_id", "entry", "http_status", "answer", "mail_from", "reference_job",
            "cost_center", "campaign_id", "notification", "slip", "recipients"]
    return dict(zip(keys, rows[0]))


def account_jobs(account_id):
    return sql("SELECT job_id FROM job WHERE account_id=%s", account_id)


def only_job(queue, account_id, job_id, what):
    """Assert job_id is the account's one acceptance record and its one job
    on the queue; return its (envelope, raw message)."""
    from txtest import eq
    eq([r[0] for r in account_jobs(account_id)], [job_id], "only %s has an acceptance record" % what)
    seen = jobs_seen(queue)
    eq(sorted(j for j in seen if seen[j][0]["account"] == account_id), [job_id], "only %s was published" % what)
    return wait_job(queue, job_id)


# ------------------------------------------------------------------ private instances

def spare_port(i):
    return int(E["TXMAIL_PORT_SPARE%d" % i])


def private_smtpd(*overrides, port=None, tls_port=None, name="smtpd-private"):
    """A second txmail-smtpd with overrides, on spare ports; waits until it listens."""
    port = port or spare_port(1)
    args = ["-o", "smtpd_listen=127.0.0.1:%d" % port,
            "-o", "smtpd_tls_listen=" + ("127.0.0.1:%d" % tls_port if tls_port else "")]
    for o in overrides:
        args += ["-o", o]
    p = Program("txmail-smtpd", *args, log_name=name)

    def up():
        try:
            socket.create_connection((HOST, port), 1).close()
            return True
        except OSError:
            return False
    wait_until(up, 15, "private txmail-smtpd on port %d" % port)
    # the probe's connection counts against smtpd_max_per_ip until the
    # server has seen it close (403 once saw its third connection refused)
    time.sleep(0.5)
    return p, port


def swaks(*args, timeout=60):
    p = subprocess.run(["swaks", "--server", HOST] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr
