"""txmail-deliver with its built-in network policy (deliver_deny_networks
"default", no allow list) never connects where a recipient domain's DNS
points inside: a domain whose MX host resolves to 127.0.0.1 (plain.test),
and a domain without MX whose own A record is 127.0.0.1 (nomx.test), are
deferred [4.4.4] "MX host ...[127.0.0.1] denied by policy" - a configuration
error of the domain, as Postfix defers mail whose MX points at itself, not a
bounce that would suppress the address - retried, and after deliver_max_age
finished as any message that could not be delivered in time
(BOUNCED/SOFT_BOUNCE); no connection reaches the SMTP port. A route of the
operator's transport map to 127.0.0.1 is not subject to the tenant policy
and delivers. (The stack's configuration allows loopback for the other
tests: deliver_allow_networks.)"""
from dlvtest import *
from txtest import *

ev = Events()
proxy = CountingProxy(int(E["TXMAIL_SINK_PORT"]))
tmap = write_transport(["trusted.test 127.0.0.1:%d" % proxy.port])
# MX routes use deliver_smtp_port: the counting proxy stands in front of the sink
w = Worker("deliver_allow_networks=", "deliver_smtp_port=%d" % proxy.port, "deliver_transport_map=" + tmap,
           "deliver_retry_schedule=1s", "deliver_max_age=4s")

r1 = uniq("mx") + "@plain.test"
r2 = uniq("a") + "@nomx.test"
rid1, _ = w.send(r1)
rid2, _ = w.send(r2)
for rid, host in ((rid1, "mx.plain.test"), (rid2, "nomx.test")):
    d = ev.wait(rid, "DEFERRED", "SOFT_BOUNCE", timeout=30)[0]
    eq(d["description"], "[4.4.4] deferred (MX host %s[127.0.0.1] denied by policy (deliver_deny_networks))" % host,
       "deferral of %s" % host)
for rid, rcpt in ((rid1, r1), (rid2, r2)):
    f = ev.final(rid, timeout=40)
    eq((f["type"], f["subType"]), ("BOUNCED", "SOFT_BOUNCE"), "finished after deliver_max_age: %s" % f.get("description"))
    check(len([e for e in ev.of(rid) if e["type"] == "DEFERRED"]) >= 2, "retried in between")
    eq(sink_for(rcpt), [], "nothing reached the sink for %s" % rcpt)
eq(proxy.connections, 0, "no connection to the SMTP port")
check("denied by policy" in w.log(), "the reason is logged")

# the operator's transport map is trusted
r3 = uniq("t") + "@trusted.test"
rid3, raw3 = w.send(r3)
eq(sink_wait(r3, 1, 30)[0][1], raw3, "a transport route to loopback delivers")
ev.wait(rid3, "DELIVERED", "OK")
eq(proxy.connections, 1, "one connection, the transport route's")
w.stop()
done()
