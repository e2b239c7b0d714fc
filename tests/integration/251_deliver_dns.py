"""txmail-deliver and DNS (the stack's dnsmasq through c-ares): A fallback
without MX, failover to the next MX when the first refuses connections,
null MX -> hard bounce [5.1.10], NXDOMAIN -> hard bounce [5.1.2] (both
suppressed 45 days), DNS server unreachable -> DEFERRED [4.4.1] with
growing event keys and nothing sent."""
import re

from dlvtest import *
from txtest import *

ev = Events()

# A fallback: nomx.test has only an A record
r1 = uniq("nomx") + "@nomx.test"
rid1, raw1 = send(r1)
eq(sink_wait(r1, 1, 30)[0][1], raw1, "message for a domain without MX delivered to its A record")
d1 = ev.wait(rid1, "DELIVERED", "OK")[0]
check("(host nomx.test[127.0.0.1] said: 250" in d1["description"], "delivered to the domain itself: " + d1["description"])

# failover: mx1.failover.test (pref 5, 127.0.0.2) refuses, mx2 (pref 10) takes it
r2 = uniq("fo") + "@failover.test"
rid2, raw2 = send(r2)
eq(sink_wait(r2, 1, 30)[0][1], raw2, "message delivered through the second MX")
d2 = ev.wait(rid2, "DELIVERED", "OK")[0]
check("(host mx2.failover.test[127.0.0.1] said: 250" in d2["description"], "the second MX: " + d2["description"])
eq([e["type"] for e in ev.of(rid2)], ["DELIVERED"], "no DEFERRED for a failover within one attempt")

# null MX (RFC 7505)
r3 = uniq("Null") + "@nullmx.test"
rid3, _ = send(r3)
b3 = ev.wait(rid3, "BOUNCED", "HARD_BOUNCE")[0]
eq(b3["description"], "[5.1.10] bounced (Domain nullmx.test does not accept mail (nullMX))", "null MX description")
eq(b3["tag"], tag(rid3, "DELIVER", "FINISHED", "BOUNCED", "HARD_BOUNCE"), "tag")
check("smtpCode" not in b3, "no SMTP code without a reply")
eq(b3["x"]["suppress"], {"address": r3.lower(), "type": "PREVIOUSLY_BOUNCED", "lifetime_s": 45 * 86400,
                         "reason": b3["description"]}, "x.suppress for a null MX: 45 days, lowercased address")

# NXDOMAIN
r4 = uniq("nx") + "@" + uniq("nosuch") + ".test"
rid4, _ = send(r4)
b4 = ev.wait(rid4, "BOUNCED", "HARD_BOUNCE")[0]
check(re.fullmatch(r"\[5\.1\.2\] bounced \(Host or domain name not found\. Name service error for name=\S+ type=MX: Host not found\)",
                   b4["description"]) is not None, "NXDOMAIN description: " + b4["description"])
eq((b4["x"]["suppress"]["type"], b4["x"]["suppress"]["lifetime_s"]), ("PREVIOUSLY_BOUNCED", 45 * 86400), "NXDOMAIN suppressed 45 days")
check(no_message(r3, 0.2) and no_message(r4, 0.2), "nothing sent for null MX / NXDOMAIN")

# DNS unreachable: a private worker asking a port where no DNS server listens
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
dead = s.getsockname()[1]
s.close()
w = Worker("dns_servers=127.0.0.1:%d" % dead, "deliver_dns_timeout=300ms", "deliver_dns_tries=1",
           "deliver_retry_schedule=1s", "deliver_dns_cache_ttl=0")
r5 = uniq("dnsdown") + "@example.net"
rid5, _ = w.send(r5)
defs = ev.wait(rid5, "DEFERRED", "SOFT_BOUNCE", count=2, timeout=30)
eq([e["eventKey"] for e in defs[:2]], ["1", "2"], "event keys count the deferrals")
check(defs[0]["tag"] != defs[1]["tag"], "two deferrals, two tags")
eq(defs[1]["tag"], tag(rid5, "DELIVER", "INTERMEDIATE", "DEFERRED", "SOFT_BOUNCE", "2"), "tag of the second deferral")
check(re.fullmatch(r"\[4\.4\.1\] deferred \(Host or domain name not found\. Name service error for name=example\.net type=MX: .+\)",
                   defs[0]["description"]) is not None, "DNS failure description: " + defs[0]["description"])
check("x" not in defs[0], "a deferral suppresses nothing")
eq(defs[0]["state"], "INTERMEDIATE", "DEFERRED is intermediate")
check(no_message(r5, 0.2), "nothing sent while DNS is down")
w.stop()
done()
