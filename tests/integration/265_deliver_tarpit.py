"""txmail-deliver against tarpits (finding "slow-MX tarpit"): SMTP peers
that answer one byte a second - a greeting of endless "220-" lines, an
endless EHLO reply, an endless reply to the final dot, each line (6 s)
well within the phase timeout. Every phase has one deadline for the whole
reply (deliver_greeting/helo/dot_timeout = 8s here), not a fresh timeout
per line, so each tarpit session ends after about 8s and the message is
DEFERRED [4.4.1] "conversation timed out ... while ...". A tenant's 32
messages to its tarpit domain hold at most
deliver_destination_concurrency_limit (8) of the worker's 16 threads - the
tarpit never sees more connections at once - and the others are throttled
back through the delay queue without events; messages to a normal domain
sent after them in the same run are delivered promptly (bounded below).
Every tarpit message ends deferred: none delivered, none lost, none with
a second final event."""
import re
import select
import threading

from dlvtest import *
from txtest import *


class Tarpit:
    """An SMTP peer that starts answering one byte a second at `mode`
    (greeting, ehlo or dot); counts connections, the most at once, and how
    long each lasted."""

    def __init__(self, mode):
        self.mode = mode
        self.lock = threading.Lock()
        self.active = self.most = self.total = 0
        self.durations = []
        self.commands = []
        self.bodies = 0
        self.srv, self.port = serve_tcp(self._session, backlog=128)

    @staticmethod
    def _dribble(c, line):
        while True:                     # a reply that never ends, one byte a second
            for b in line:
                c.send(bytes([b]))
                # wait a second, but notice at once when deliver hangs up
                if select.select([c], [], [], 1)[0] and c.recv(4096) == b"":
                    raise ConnectionError

    def _session(self, c):
        with self.lock:
            self.active += 1
            self.total += 1
            self.most = max(self.most, self.active)
        t0 = time.time()
        try:
            if self.mode == "greeting":
                self._dribble(c, b"220-\r\n")
            c.sendall(b"220 tarpit.test ESMTP\r\n")
            f = c.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    break
                cmd = line.decode(errors="replace").strip()
                with self.lock:
                    self.commands.append(cmd)
                word = cmd.split(" ")[0].split(":")[0].upper()
                if word == "EHLO":
                    if self.mode == "ehlo":
                        self._dribble(c, b"250-\r\n")
                    c.sendall(b"250-tarpit.test\r\n250 8BITMIME\r\n")
                elif word in ("MAIL", "RCPT", "RSET"):
                    c.sendall(b"250 2.0.0 Ok\r\n")
                elif word == "DATA":
                    c.sendall(b"354 go ahead\r\n")
                    while f.readline() not in (b".\r\n", b""):
                        pass
                    with self.lock:
                        self.bodies += 1
                    if self.mode == "dot":
                        self._dribble(c, b"250-\r\n")
                    c.sendall(b"250 2.0.0 Ok\r\n")
                elif word == "QUIT":
                    c.sendall(b"221 2.0.0 Bye\r\n")
                    break
                else:
                    c.sendall(b"502 5.5.2 unknown\r\n")
        except OSError:
            pass                        # deliver hung up
        finally:
            with self.lock:
                self.active -= 1
                self.durations.append(time.time() - t0)
            c.close()


ev = Events()
pits = {m: Tarpit(m) for m in ("greeting", "ehlo", "dot")}
tmap = write_transport(["%s.tarpit.test 127.0.0.1:%d" % (m, t.port) for m, t in pits.items()])
w = Worker("deliver_transport_map=" + tmap, "deliver_concurrency=16", "deliver_destination_concurrency_limit=8",
           "deliver_destination_retry=1s", "deliver_greeting_timeout=8s", "deliver_helo_timeout=8s",
           "deliver_dot_timeout=8s", "deliver_retry_schedule=10m", "deliver_max_age=1h")

# one tenant: 32 messages to its tarpit domain
slow = []
for i in range(32):
    r = "%s-%02d@greeting.tarpit.test" % (uniq("pit"), i)
    slow.append((w.send(r)[0], r))
time.sleep(1)
# everybody else, in the same run: a normal domain (the stack's sink through its MX)
t0 = time.time()
fast = []
for i in range(10):
    r = "%s-%02d@example.net" % (uniq("fast"), i)
    fast.append((w.send(r), r))
for (rid, raw), r in fast:
    ev.wait(rid, "DELIVERED", "OK", timeout=60)
took = time.time() - t0
log("10 messages to a normal domain delivered %.1fs after they were sent, 32 tarpit messages in flight" % took)
check(took < 10, "the normal destination keeps flowing next to the tarpit (%.1fs < 10s)" % took)
for (rid, raw), r in fast:
    eq([m[1] for m in sink_for(r)], [raw], "%s delivered once, intact" % r)

# every tarpit message ends deferred once its greeting deadline passes
want = "[4.4.1] deferred (conversation timed out with 127.0.0.1[127.0.0.1] while receiving the initial server greeting)"
for rid, r in slow:
    d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE", timeout=90)[0]
    eq(d["description"], want, "tarpit message deferred at the greeting deadline")
g = pits["greeting"]
log("greeting tarpit: %d connections, at most %d at once, longest %.1fs" % (g.total, g.most, max(g.durations)))
check(g.most <= 8, "never more than deliver_destination_concurrency_limit sessions with the tarpit (%d)" % g.most)
check(max(g.durations) < 10, "each tarpit session ended near the 8s deadline (longest %.1fs)" % max(g.durations))
time.sleep(1)
for rid, r in slow:
    kinds = [e["type"] for e in ev.of(rid)]
    if kinds != ["DEFERRED"]:
        fail("%s: events %r (want exactly one DEFERRED: not delivered, not finished, not lost)" % (rid, kinds))
check(True, "each tarpit message has exactly one DEFERRED event, no final one")
eq(g.commands, [], "the greeting tarpit never got a command")
eq(g.total, 32, "one session per tarpit message (no retry within the 10m schedule)")

# the other phases: an endless EHLO reply, an endless reply to the final dot
r = uniq("pitehlo") + "@ehlo.tarpit.test"
rid, _ = w.send(r)
d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE", timeout=30)[0]
eq(d["description"], "[4.4.1] deferred (conversation timed out with 127.0.0.1[127.0.0.1] while sending EHLO)",
   "EHLO reply past its deadline: deferred")
r = uniq("pitdot") + "@dot.tarpit.test"
rid, _ = w.send(r)
d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE", timeout=30)[0]
eq(d["description"], "[4.4.1] deferred (conversation timed out with 127.0.0.1[127.0.0.1] while sending end of "
   "data -- message may be sent more than once)", "reply to the final dot past its deadline: deferred")
for m in ("ehlo", "dot"):
    check(max(pits[m].durations) < 10, "%s tarpit session ended near the 8s deadline (%.1fs)" % (m, max(pits[m].durations)))
eq(pits["dot"].bodies, 1, "the dot tarpit got the body once")
check(re.search(r"status=throttled \(too many concurrent sessions for greeting\.tarpit\.test with 127\.0\.0\.1 port %d "
                    r"\(deliver_destination_concurrency_limit 8\)\)" % pits["greeting"].port, w.log()) is not None,
      "messages over the limit were logged as throttled")
w.stop()
done()
