"""txmail-deliver exactly-once toward the peer:
(a) a recipient id already in delivery_record is not sent again; DELIVERED
    is published again from the recorded reply with the same tag;
(b) kill -9 of the worker while the peer holds the RCPT reply: the broker
    redelivers, another worker sends it: exactly one copy at the sink;
(c) kill -9 right after the peer's 250 (the worker's broker connections
    hang, so it cannot publish or ack; the delivery_record row is there): the
    redelivered message is not sent again - one copy, DELIVERED once more
    with the same tag."""
import re
import urllib.parse

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

# (c) kill -9 after the 250: the worker's broker connections hang (a TCP proxy
#     that stops forwarding), so it can record but neither publish nor ack
amqp_port = int(urllib.parse.urlsplit(E["TXMAIL_AMQP_URL"]).port)
hang = CountingProxy(amqp_port)
c = Worker("deliver_transport_map=" + tmap, "broker_url=amqp://txmail@127.0.0.1:%d/" % hang.port)
rc = "slow2-" + uniq("c") + "@once.test"   # the peer holds its RCPT reply 2 s
ridc, rawc = c.send(rc)
wait_until(lambda: proxy.connections >= 3, 15, "worker C connected")
hang.paused = True
wait_until(lambda: sql("SELECT COUNT(*) FROM delivery_record WHERE rid=%s", ridc)[0][0] == 1, 20,
           "the delivery recorded after the peer's 250")
eq(len(sink_wait(rc, 1, 10)), 1, "the peer has the message")
time.sleep(0.5)
eq([e["type"] for e in ev.of(ridc)], [], "worker C could not publish anything")
c.prog.kill9()
hang.drop_all()                      # the broker sees the connections go: the job is returned
d = Worker("deliver_transport_map=" + tmap, name=c.queue)
dc = ev.wait(ridc, "DELIVERED", "OK", timeout=60)[0]
eq(dc["tag"], tag(ridc, "DELIVER", "FINISHED", "DELIVERED", "OK"), "DELIVERED with the tag of the recorded delivery")
check(dc["description"].startswith("[2.0.0] delivered (host 127.0.0.1[127.0.0.1] said: 250 2.0.0 Ok: queued as"),
      "from the recorded reply: " + dc["description"])
time.sleep(1)
eq(len(sink_for(rc)), 1, "still exactly one copy after the redelivery")
eq(len([e for e in ev.of(ridc) if e["type"] == "DELIVERED"]), 1, "one DELIVERED")
check(re.search(re.escape(ridc) + r": stage=\S+ attempt=0 status=ok \(already delivered\)", d.log()) is not None,
      "the redelivered job was recognised as delivered")
d.stop()
done()
