"""txmail-deliver connection reuse: consecutive messages to one destination
share one SMTP connection (counted by a TCP proxy in front of the sink)
up to deliver_conn_max_messages; an idle connection is closed after
deliver_conn_idle_timeout and the next message opens a new one; a
connection the peer closed while it was cached is replaced without a
deferral; deliver_source_ip binds outgoing connections."""
from dlvtest import *
from txtest import *

ev = Events()
proxy = CountingProxy(int(E["TXMAIL_SINK_PORT"]))
tmap = write_transport(["reuse.test 127.0.0.1:%d" % proxy.port, ".sub.reuse.test 127.0.0.1:%d" % proxy.port])
w = Worker("deliver_transport_map=" + tmap, "deliver_concurrency=1", "deliver_conn_max_messages=3",
           "deliver_conn_idle_timeout=2s")

rcpts = []
for i in range(5):
    r = uniq("reuse%d" % i) + ("@reuse.test" if i % 2 == 0 else "@a.sub.reuse.test")
    rid, raw = w.send(r)
    ev.wait(rid, "DELIVERED", "OK")
    rcpts.append((r, raw))
for r, raw in rcpts:
    got = sink_for(r)
    eq((len(got), got[0][1] == raw, got[0][0]["tls"]), (1, True, True), "%s delivered once, intact, over TLS" % r)
eq(proxy.connections, 2, "5 messages over 2 connections (3 per connection)")

time.sleep(3.5)
r = uniq("afteridle") + "@reuse.test"
rid, _ = w.send(r)
ev.wait(rid, "DELIVERED", "OK")
eq(proxy.connections, 3, "a new connection after the idle timeout")
w.stop()

# a cached connection the peer has closed: replaced at once, no deferral
w2 = Worker("deliver_transport_map=" + tmap, "deliver_concurrency=1", "deliver_conn_idle_timeout=60s")
first = uniq("stale1") + "@reuse.test"
rid1, _ = w2.send(first)
ev.wait(rid1, "DELIVERED", "OK")
n = proxy.connections
proxy.drop_all()                # the peer hangs up while the connection is cached
time.sleep(0.3)
second = uniq("stale2") + "@reuse.test"
rid2, _ = w2.send(second)
ev.wait(rid2, "DELIVERED", "OK")
eq([e["type"] for e in ev.of(rid2)], ["DELIVERED"], "no deferral for a stale cached connection")
eq(proxy.connections, n + 1, "a new connection replaced the stale one")
w2.stop()

w3 = Worker("deliver_source_ip=127.0.0.3")
r3 = uniq("srcip") + "@example.net"
rid3, _ = w3.send(r3)
eq(sink_wait(r3, 1, 20)[0][0]["client"], "127.0.0.3", "the sink saw the configured source address")
w3.stop()
done()
