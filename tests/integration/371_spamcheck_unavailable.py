"""txmail-spamcheck when spamd cannot answer (contract §16.4): the message
is delivered all the same, its SPAM_SCORE_CHECK event has no score, an
empty rules list and the description "spam check unavailable"; mail is
never held for the check, even with block-above. Two ways spamd fails:
- the stack's spamd stopped (connection refused);
- a peer on spamd's port that accepts and answers garbage, then one that
  accepts and never answers (a private txmail-spamcheck with a 1 s
  timeout, pointed at it).
After spamd comes back, messages are scored again."""
import socket
import threading

from txtest import *
from spamtest import HAM, SSC, events, log_line, send, spamscore, tenant, wait_event

acct = tenant()
run = uniq("su").lower()
atexit.register(lambda: stack("start-spamd"))


def unavailable(rid, to, why_part, t0):
    sink_wait(to)
    check(time.time() - t0 < 20, "delivered without waiting for spamd (%.1fs)" % (time.time() - t0))
    ev = wait_event(rid, "SPAM_SCORE_CHECK")
    eq((ev["phase"], ev["state"], ev["type"], ev["subType"]), SSC, "SPAM_SCORE_CHECK event")
    eq(ev["description"], "spam check unavailable", "the description")
    sc = spamscore(ev)
    check("score" not in sc, "no score: %r" % sc)
    eq(sc.get("rules"), [], "no rules")
    eq(events(rid, "DROPPED"), [], "not dropped (block-above without a score)")
    line = log_line(rid)[-1]
    check("status=unavailable" in line and why_part in line, "log line: %s" % line)


# ---------------------------------------------------------------- spamd stopped: refused
stack("stop-spamd")
to1 = run + "-down@example.net"
t0 = time.time()
r1 = send(acct, to1, spam={"active": True, "mode": "block-above", "threshold": -50})
unavailable(r1, to1, "refused", t0)

# ---------------------------------------------------------------- garbage, then silence, on spamd's port
port = int(E["TXMAIL_PORT_SPAMD"])
mode = {"v": "garbage"}
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(8)


def peer():
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        if mode["v"] == "garbage":
            c.recv(65536)
            c.sendall(b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / x\r\n\r\n" + b"\xff" * 3000)
            c.close()
        else:
            threading.Timer(5, c.close).start()


threading.Thread(target=peer, daemon=True).start()
own = instead_of_stack("spamcheck", "-o", "spamcheck_timeout=1s", log_name="spamcheck-371")
to2 = run + "-garbage@example.net"
t0 = time.time()
r2 = send(acct, to2, spam={"active": True, "mode": "block-above", "threshold": -50})
sink_wait(to2)
ev = wait_event(r2, "SPAM_SCORE_CHECK")
eq(ev["description"], "spam check unavailable", "garbage answer: unavailable")
check("score" not in spamscore(ev), "garbage answer: no score")
check("bad or repeated Spam header" in own.log_text(), "the reason is logged")
mode["v"] = "silent"
to3 = run + "-silent@example.net"
r3 = send(acct, to3, spam={"active": True, "mode": "block-above", "threshold": -50})
sink_wait(to3)
ev = wait_event(r3, "SPAM_SCORE_CHECK")
eq(ev["description"], "spam check unavailable", "no answer: unavailable")
check("timed out waiting for the answer" in own.log_text(), "the timeout is logged")
check(own.alive(), "txmail-spamcheck survived")
own.stop()
srv.shutdown(socket.SHUT_RDWR)
srv.close()

# ---------------------------------------------------------------- spamd back: scored again
stack("start-spamd")
stack("programs-up")
to4 = run + "-back@example.net"
r4 = send(acct, to4, spam={"active": True})
sink_wait(to4)
sc = spamscore(wait_event(r4, "SPAM_SCORE_CHECK"))
check("score" in sc, "spamd back: scored (%r)" % sc)
done()
