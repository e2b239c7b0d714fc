"""txmail-deliver exactly-once toward the peer:
(a) a recipient id already in delivery_record is not sent again; DELIVERED
    is published again from the recorded reply with the same tag;
(b) kill -9 of the worker while the peer holds the RCPT reply: the broker
    redelivers, another worker sends it: exactly one copy at the sink;
(c) kill -9 right after the peer's 250 (the broker is down, so the worker
    cannot publish or ack; the delivery_record row is already there): the
    redelivered message is not sent again - one copy, DELIVERED once more
    with the same tag."""
from dlvtest import *
from txtest import *

ev = Events()

# (a) recorded before: nothing is sent
w = Worker()
ra = uniq("rec") + "@example.net"
rida, body = message(ra, slip=[w.queue])
sql("INSERT INTO delivery_record (rid, account_id, state, smtp_code, reply, host, at) VALUES "
    "(%s, 1, 'sent', '250', '250 2.0.0 Ok: queued as EARLIER', 'mx.example.net[127.0.0.1]', UTC_TIMESTAMP(3))", rida)
publish("txmail.work", w.queue, body)
da = ev.wait(rida, "DELIVERED", "OK")[0]
eq(da["description"], "[2.0.0] delivered (host mx.example.net[127.0.0.1] said: 250 2.0.0 Ok: queued as EARLIER)",
   "DELIVERED again from the recorded reply")
eq(da["tag"], tag(rida, "DELIVER", "FINISHED", "DELIVERED", "OK"), "same tag as the first DELIVERED")
eq(da["smtpCode"], "250", "recorded smtpCode")
check(no_message(ra, 1.0), "not sent again")
w.stop()

# (b) kill -9 while the peer delays its RCPT reply
proxy = CountingProxy(int(E["TXMAIL_SINK_PORT"]))
tmap = write_transport(["once.test 127.0.0.1:%d" % proxy.port])
a = Worker("deliver_transport_map=" + tmap)
rb = "slow3-" + uniq("k") + "@once.test"
ridb, rawb = a.send(rb)
wait_until(lambda: proxy.connections >= 1, 15, "worker A connected")
time.sleep(0.8)
a.prog.kill9()
b = Worker("deliver_transport_map=" + tmap, name=a.queue)
db_ = ev.wait(ridb, "DELIVERED", "OK", timeout=40)[0]
time.sleep(1)
eq(len(sink_for(rb)), 1, "exactly one copy at the sink after kill -9 mid-transaction")
eq(sink_for(rb)[0][1], rawb, "the copy is complete")
eq(len([e for e in ev.of(ridb) if e["type"] == "DELIVERED"]), 1, "one DELIVERED")
check(proxy.connections >= 2, "the second worker made its own connection")
b.stop()

# (c) kill -9 after the 250: the broker is down, the worker holds the job unacked
c = Worker("deliver_transport_map=" + tmap)
rc = "slow2-" + uniq("c") + "@once.test"
ridc, rawc = c.send(rc)
wait_until(lambda: proxy.connections >= 3, 15, "worker C connected")
stack("stop-broker")
try:
    wait_until(lambda: sql("SELECT COUNT(*) FROM delivery_record WHERE rid=%s", ridc)[0][0] == 1, 20,
               "the delivery recorded after the peer's 250")
    eq(len(sink_wait(rc, 1, 10)), 1, "the peer has the message")
    c.prog.kill9()
finally:
    stack("start-broker")
d = Worker("deliver_transport_map=" + tmap, name=c.queue)
dc = ev.wait(ridc, "DELIVERED", "OK", timeout=60)[0]
eq(dc["tag"], tag(ridc, "DELIVER", "FINISHED", "DELIVERED", "OK"), "DELIVERED with the tag of the recorded delivery")
check(dc["description"].startswith("[2.0.0] delivered (host 127.0.0.1[127.0.0.1] said: 250 2.0.0 Ok: queued as"),
      "from the recorded reply: " + dc["description"])
time.sleep(1)
eq(len(sink_for(rc)), 1, "still exactly one copy after the redelivery")
check(ridc in d.log() and "already delivered" in d.log(), "the redelivered job was recognised as delivered")
d.stop()
done()
