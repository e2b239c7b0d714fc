"""dlvtest - helpers for the txmail-deliver integration cases (25x-29x).

Builds `type:"message"` envelopes as docs/ENVELOPES.md describes, collects
events from txmail.events through a private queue, and starts private
txmail-deliver workers on private queues (so a test can use its own
parameters without the stack's deliver taking its messages).
"""
import hashlib
import json
import os
import socket
import threading
import time
import uuid

from txtest import E, Program, amqp, event_docs, fail, publish, serve_tcp, sink_for, uniq, wait_until


def new_ids():
    jid = str(uuid.uuid4())
    return jid, jid + "#00000000#00000000"


def raw_message(rcpt, body=b"hello\r\n", sender="sender@example.com", extra=b""):
    return (b"From: " + sender.encode() + b"\r\nTo: " + rcpt.encode() + b"\r\nSubject: test " +
            rcpt.encode() + b"\r\nMessage-ID: <" + uniq("m").encode() + b"@txmail.test>\r\n" +
            b"Date: Wed, 14 May 2025 08:55:50 +0000\r\nMIME-Version: 1.0\r\n" + extra +
            b"\r\n" + body)


def message(rcpt, raw=None, account=1, slip=None, created=None, deferrals=0, **data):
    """(rid, body) of a message envelope for rcpt; data overrides the message data."""
    jid, rid = new_ids()
    raw = raw if raw is not None else raw_message(rcpt)
    d = {"entry": "rest", "receivedTs": "2025-05-14T08:55:50.817Z",
         "account": {"id": account}, "senderDomain": {"id": 0, "domain": "example.com"},
         "mailFrom": "sender@example.com", "rcpt": rcpt, "email": "To <%s>" % rcpt,
         "from": "Sender <sender@example.com>", "mimeFrom": None, "rewriteFrom": None,
         "reference": "ref-" + rid[-4:], "messageId": "<%s@txmail.test>" % rid,
         "smtputf8": False, "eightbit": False, "tlsEnforced": False, "relayHost": None}
    d.update(data)
    e = {"v": 1, "type": "message", "job": jid, "rid": rid, "account": account,
         "slip": slip or ["deliver"], "attempt": 0, "deferrals": deferrals,
         "created": created if created is not None else int(time.time() * 1000),
         "data": d, "raw_len": len(raw)}
    return rid, json.dumps(e, separators=(",", ":")).encode() + b"\n" + raw


def send(rcpt, queue="deliver", **kw):
    """Publish a message for rcpt to queue; returns (rid, raw)."""
    raw = kw.pop("raw", None)
    if raw is None:
        raw = raw_message(rcpt)
    rid, body = message(rcpt, raw=raw, slip=[queue], **kw)
    publish("txmail.work", queue, body)
    return rid, raw


def tag(rid, phase, state, typ, sub, key="1"):
    return hashlib.sha256("\n".join([rid, phase, state, typ, sub, key]).encode()).hexdigest()


def temp_queue(name, exchange, key):
    """A classic queue that disappears 2 minutes after its last use."""
    c = amqp()
    try:
        ch = c.channel()
        ch.queue_declare(name, durable=True, arguments={"x-expires": 120000})
        ch.queue_bind(name, exchange, routing_key=key)
    finally:
        c.close()
    return name


class Events:
    """Every event published while the test runs, by recipient id."""

    def __init__(self):
        self.queue = temp_queue(uniq("tevents"), "txmail.events", "#")
        self.by_rid = {}
        self.lock = threading.Lock()

    def poll(self):
        c = amqp()
        try:
            ch = c.channel()
            while True:
                m, props, body = ch.basic_get(self.queue, auto_ack=True)
                if m is None:
                    break
                try:
                    evs = event_docs(body)
                except ValueError:
                    continue
                with self.lock:
                    for ev in evs:
                        self.by_rid.setdefault(ev.get("rid"), []).append(ev)
        finally:
            c.close()

    def of(self, rid):
        self.poll()
        with self.lock:
            return list(self.by_rid.get(rid, []))

    def wait(self, rid, typ, sub=None, count=1, timeout=30):
        """Wait for count events of type (and subType) for rid; returns them all."""
        def got():
            evs = [e for e in self.of(rid) if e.get("type") == typ and (sub is None or e.get("subType") == sub)]
            return evs if len(evs) >= count else None
        return wait_until(got, timeout, "%d %s/%s event(s) for %s" % (count, typ, sub, rid), interval=0.2)

    def final(self, rid, timeout=30):
        def got():
            evs = [e for e in self.of(rid) if e.get("state") == "FINISHED"]
            return evs[0] if evs else None
        return wait_until(got, timeout, "a final event for %s" % rid, interval=0.2)


class Worker:
    """A private txmail-deliver consuming its own queue, with -o parameters."""

    def __init__(self, *opts, name=None):
        self.queue = name or uniq("dlvq")
        temp_queue(self.queue, "txmail.work", self.queue)
        args = ["-o", "deliver_queue=" + self.queue]
        for o in opts:
            args += ["-o", o]
        self.args = args
        self.prog = None
        self.start()

    def start(self):
        self.prog = Program("txmail-deliver", *self.args, log_name="deliver-" + self.queue)
        wait_until(lambda: "started:" in self.prog.log_text() or not self.prog.alive(), 15,
                   "the private deliver worker to start")
        if not self.prog.alive():
            fail("private deliver worker exited: " + self.prog.log_text()[-2000:])

    def send(self, rcpt, **kw):
        return send(rcpt, queue=self.queue, **kw)

    def log(self):
        return self.prog.log_text()

    def stop(self):
        return self.prog.stop()


def no_message(rcpt, seconds=1.5, plain=False):
    """True when the sink got nothing for rcpt within seconds."""
    time.sleep(seconds)
    return sink_for(rcpt, plain) == []


class CountingProxy:
    """TCP proxy to 127.0.0.1:target that counts the connections it accepts."""

    def __init__(self, target):
        self.target = target
        self.connections = 0
        self.socks = []
        self.paused = False
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                while self.paused and a in self.socks:  # hold every byte: a network that hangs
                    time.sleep(0.02)
                if a not in self.socks:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.connections += 1
            u = socket.create_connection(("127.0.0.1", self.target))
            self.socks += [c, u]
            threading.Thread(target=self._pipe, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c), daemon=True).start()


    def drop_all(self):
        """Close every proxied connection (a peer hanging up)."""
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.socks = []


def write_transport(lines):
    """A transport map file for a private worker; returns its path."""
    path = os.path.join(E["TXMAIL_STACK_DIR"], uniq("transport") + ".map")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class ScriptedPeer:
    """A small SMTP server on loopback whose replies a test chooses, for the
    edges real MTAs do not produce on demand (refused EHLO, 5xx greeting,
    421 mid-transaction, garbage replies). replies maps a command word
    (GREETING, EHLO, HELO, STARTTLS, MAIL, RCPT, DATA, DOT, RSET, QUIT) to
    the reply text (CRLF-separated lines allowed). Every command received is
    kept in self.sessions (one list per connection); messages in self.messages."""

    DEFAULT = {"GREETING": "220 scripted.test ESMTP", "EHLO": "250-scripted.test\r\n250 8BITMIME",
               "HELO": "250 scripted.test", "MAIL": "250 2.1.0 Ok", "RCPT": "250 2.1.5 Ok",
               "DATA": "354 go ahead", "DOT": "250 2.0.0 Ok: queued as SCRIPTED",
               "RSET": "250 2.0.0 Ok", "QUIT": "221 2.0.0 Bye", "STARTTLS": "454 4.7.0 TLS not available"}

    def __init__(self, **replies):
        self.replies = dict(self.DEFAULT)
        self.replies.update(replies)
        self.sessions = []
        self.messages = []
        self.srv, self.port = serve_tcp(self._session)

    def _session(self, c):
        log = []
        self.sessions.append(log)
        f = c.makefile("rb")

        def say(word):
            r = self.replies[word]
            if r is None:               # hang up instead of answering
                raise ConnectionError
            c.sendall(r.encode() + b"\r\n")

        try:
            say("GREETING")
            while True:
                line = f.readline()
                if not line:
                    break
                cmd = line.decode(errors="replace").rstrip("\r\n")
                log.append(cmd)
                word = cmd.split(" ")[0].split(":")[0].upper()
                if word == "DATA":
                    say("DATA")
                    if not self.replies["DATA"].startswith("354"):
                        continue
                    data = b""
                    while True:
                        l2 = f.readline()
                        if not l2 or l2 == b".\r\n":
                            break
                        data += l2[1:] if l2.startswith(b".") else l2
                    self.messages.append(data)
                    say("DOT")
                elif word in ("EHLO", "HELO", "MAIL", "RCPT", "RSET", "STARTTLS"):
                    say(word)
                elif word == "QUIT":
                    say("QUIT")
                    break
                else:
                    c.sendall(b"502 5.5.2 unknown command\r\n")
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass
