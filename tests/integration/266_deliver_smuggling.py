"""txmail-deliver and SMTP smuggling (finding "bare CR and bare LF are
kept"): a message whose body carries every end-of-data look-alike - CRLF
"." CR, LF "." LF, CR "." CRLF, LF "." CRLF, CR "." CR - each followed by
smuggled SMTP commands, leaves deliver with every line end as CRLF
(RFC 5321 §2.3.8) and the dots doubled. So the stack's sink stores ONE
message whose content is the original with its line ends normalised, and
a lenient receiver that takes a bare CR or LF as a line end (as some
MTAs do) also sees one message and never a second MAIL FROM. The full
pipeline (REST -> render -> deliver -> sink) with the same sequences in a
text body gives one message whose DKIM signature verifies: render's output
is CRLF-only already, so deliver's normalisation changes no signed byte."""
import email
import email.policy
import re
import threading

from dlvtest import *
from txtest import *
import txrest


def norm(b):
    return re.sub(rb"\r\n|\r|\n", b"\r\n", b)


class LenientPeer:
    """An SMTP server that splits what it reads at CRLF, bare CR and bare
    LF alike; a "." line ends the data. Keeps every command and message."""

    def __init__(self):
        self.commands, self.messages = [], []
        self.srv, self.port = serve_tcp(self._session, backlog=8)

    @staticmethod
    def _lines(c):
        buf = b""
        while True:
            m = re.search(rb"\r\n|\r(?=[^\n])|\n", buf)
            if m is None:
                data = c.recv(65536)
                if not data:
                    return
                buf += data
                continue
            yield buf[:m.start()]
            buf = buf[m.end():]

    def _session(self, c):
        try:
            c.sendall(b"220 lenient.test ESMTP\r\n")
            lines = self._lines(c)
            for line in lines:
                cmd = line.decode(errors="replace")
                self.commands.append(cmd)
                word = cmd.split(" ")[0].split(":")[0].upper()
                if word == "EHLO":
                    c.sendall(b"250-lenient.test\r\n250 8BITMIME\r\n")
                elif word in ("MAIL", "RCPT", "RSET"):
                    c.sendall(b"250 2.0.0 Ok\r\n")
                elif word == "DATA":
                    c.sendall(b"354 go ahead\r\n")
                    body = []
                    for l2 in lines:
                        if l2 == b".":
                            break
                        body.append(l2[1:] if l2.startswith(b".") else l2)
                    self.messages.append(body)
                    c.sendall(b"250 2.0.0 Ok\r\n")
                elif word == "QUIT":
                    c.sendall(b"221 2.0.0 Bye\r\n")
                    break
                else:
                    c.sendall(b"502 5.5.2 unknown\r\n")
        except OSError:
            pass
        finally:
            c.close()


SMUGGLE = (b"first line\r\n"
           b"v1\r\n.\rMAIL FROM:<evil1@attacker.test>\r\n"
           b"v2\n.\nMAIL FROM:<evil2@attacker.test>\n"
           b"v3\r.\r\nMAIL FROM:<evil3@attacker.test>\r\n"
           b"v4\n.\r\nMAIL FROM:<evil4@attacker.test>\r\n"
           b"v5\r.\rMAIL FROM:<evil5@attacker.test>\r"
           b"RCPT TO:<victim@example.net>\r\nDATA\r\nsmuggled\r\n.\r\n"
           b"last line\r\n")

ev = Events()
peer = LenientPeer()
tmap = write_transport(["lenient.test 127.0.0.1:%d" % peer.port])
w = Worker("deliver_transport_map=" + tmap, "deliver_retry_schedule=1s")

# 1. the stack's sink (LF-terminated lines): one message, line ends normalised, nothing else changed
r1 = uniq("smug") + "@example.net"
rid1, raw1 = w.send(r1, raw=raw_message(r1, body=SMUGGLE))
ev.wait(rid1, "DELIVERED", "OK")
got = sink_wait(r1, 1, 30)
time.sleep(0.5)
eq(len(sink_for(r1)), 1, "one message at the sink")
eq(got[0][1], norm(raw1), "content intact, every line end CRLF")
eq(sink_for("victim@example.net"), [], "no smuggled recipient")

# 2. a receiver that ends lines at bare CR or LF too: still one transaction
r2 = uniq("smug") + "@lenient.test"
rid2, raw2 = w.send(r2, raw=raw_message(r2, body=SMUGGLE))
ev.wait(rid2, "DELIVERED", "OK")
time.sleep(0.5)
mails = [c for c in peer.commands if c.upper().startswith("MAIL FROM")]
eq(mails, ["MAIL FROM:<sender@example.com>"], "the lenient receiver saw one MAIL FROM, ours")
eq(len(peer.messages), 1, "and one message")
body = peer.messages[0]
for i in range(1, 6):
    check(b"MAIL FROM:<evil%d@attacker.test>" % i in body, "smuggled command %d stayed content" % i)
eq(b"\r\n".join(body) + b"\r\n", norm(raw2), "the lenient receiver got the whole message")
w.stop()

# 3. the whole pipeline: render signs, deliver sends, the signature verifies at the sink
acct = new_account(selector=uniq("s"))
stack("publish-dns")
r3 = uniq("smugdkim") + "@example.net"
text = SMUGGLE.decode()
req = {"subject": {"content": "smuggling"}, "body": {"contentType": "text/plain", "content": text},
       "mail": {"from": {"email": "Shop <shop@%s>" % acct["domain"]}},
       "recipients": [{"mail": {"to": [{"email": r3}]}}]}
st, _, _, doc = txrest.Client(user=acct["user"], password=acct["password"]).post(req)
eq(st, 200, "REST accepted the job")
(meta, data), = sink_wait(r3, 1, 60)
time.sleep(0.5)
eq(len(sink_for(r3)), 1, "one message at the sink")
check(b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b""), "CRLF-only on the wire")
check(dkim_verify(data), "DKIM verifies at the sink (dkimpy, test DNS)")
m = email.message_from_bytes(data, policy=email.policy.default)
content = m.get_body(("plain",)).get_content()
eq(content.replace("\r\n", "\n"), norm(SMUGGLE).decode().replace("\r\n", "\n"), "the text, line ends normalised")
eq(sink_for("victim@example.net"), [], "no smuggled recipient")
done()
