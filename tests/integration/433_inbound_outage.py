"""txmail-smtpd, inbound policy: broker or database trouble. With no broker
(an instance pointed at a dead port, then the stack's broker stopped) the
end of a message is answered 451 4.3.0 in bounded time, the session goes
on, and nothing of it is published later; once the broker is back the same
session queues again and exactly the retried message is on the queue. With
the database stopped, a recipient the cache knows is still taken (and its
message queued: nothing is written per message); one it does not know gets
451 4.3.0 at RCPT, and is taken again once the database is back."""
import threading

from txtest import *
from inboundtest import *
from smtpdtest import queued_id, spare_port

q = inbound_queue("t433_inbound")
a = bounce_account()
rid = new_rid(0, 7)
verp = "%s@%s" % (verp_local(rid), a["bounce"])


def msg(subject):
    return ("Subject: %s\r\n\r\nbody\r\n" % subject).encode()


# ---- an instance whose broker is not there: 451, nothing published
dead = "broker_url=amqp://txmail@127.0.0.1:%d/" % spare_port(3)
pd, dport = private_inbound(q, dead, "smtpd_confirm_timeout=2s", name="smtpd-inbound-dead", port=spare_port(2))
c = session(dport)
t0 = time.time()
answers, final = send(c, "", [verp], msg("no broker"))
eq((answers, final), (["250 2.1.5 Ok"], TEMP), "no broker: RCPT taken, 451 after the final dot")
check(time.time() - t0 < 15, "answered in bounded time (%.1fs)" % (time.time() - t0))
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session goes on")
c.close()
pd.stop()
check("not queued: broker unavailable" in pd.log_text(), "the log says why")

# ---- the stack's broker stopped under a working instance
p, port = private_inbound(q, "smtpd_confirm_timeout=3s", "smtpd_inbound_cache_ttl=10m")
c = session(port)
answers, final = send(c, "", [verp], msg("before"))
before = queued_id(final)
check(before, "queued while the broker is up")
eq([e["job"] for e, _ in envelopes(q, 1)], [before], "published")
stack("stop-broker")
t0 = time.time()
for i in range(3):
    answers, final = send(c, "", [verp], msg("during %d" % i))
    eq(final, TEMP, "broker down: attempt %d answered 451" % i)
check(time.time() - t0 < 45, "answered in bounded time (%.1fs)" % (time.time() - t0))
starter = threading.Thread(target=stack, args=("start-broker",))
starter.start()
while starter.is_alive():
    starter.join(5)
    if starter.is_alive():
        eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session stays up while the broker starts")


def retried():
    r = send(c, "", [verp], msg("after"))[1]
    if r != TEMP:
        return r
    return None


final = wait_until(retried, 60, "a message accepted once the broker is back", interval=1)
after = queued_id(final)
check(after, "the same session queues again: %r" % final)
got = envelopes(q, 1)
eq([(e["job"], r) for e, r in got], [(after, msg("after"))], "only the retried message is on the queue")
time.sleep(3)
eq(drain(q, timeout=0.5), [], "none of the refused messages shows up later")

# ---- the database stopped: the cache answers what it knows, the rest is 451
fresh = bounce_account()
stack("stop-db")
try:
    answers, final = send(c, "", [verp, "postmaster@" + fresh["bounce"]], msg("db down"))
    eq(answers, ["250 2.1.5 Ok", TEMP], "database down: a cached recipient taken, an unknown one 451")
    check(queued_id(final), "and the message queued without the database: %r" % final)
    eq([(e["account"], r) for e, r in envelopes(q, 1)], [(a["id"], msg("db down"))], "published")
finally:
    stack("start-db")


def known():
    c.cmd("RSET")
    c.cmd("MAIL FROM:<>")
    return c.cmd("RCPT TO:<postmaster@%s>" % fresh["bounce"])[1] == "250 2.1.5 Ok"


wait_until(known, 60, "the unknown recipient taken once the database is back", interval=1)
c.cmd("RSET")
c.close()
done()
