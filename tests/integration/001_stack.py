"""The local stack: every component healthy, env complete, test DNS routes
test domains to the sink, and the sink keeps a message exactly as sent."""
import smtplib
import subprocess
from txtest import *

out = subprocess.run([REPO + "/scripts/txmail-stack", "status"], capture_output=True, text=True)
for comp in ("rabbitmq", "mariadb", "dnsmasq", "sink ", "sink-plain", "spamd"):
    line = [l for l in out.stdout.splitlines() if l.startswith(comp)]
    check(line and line[0].rstrip().endswith("healthy") and "NOT" not in line[0], "%s is healthy" % comp.strip())

for var in ("TXMAIL_REST_URL", "TXMAIL_SMTP_HOST", "TXMAIL_SMTP_PORT", "TXMAIL_SMTPS_PORT",
            "TXMAIL_TRACK_URL", "TXMAIL_DEMO_USER", "TXMAIL_DEMO_PASSWORD", "TXMAIL_DEMO_DOMAIN",
            "TXMAIL_DNS", "TXMAIL_SINK_DIR", "TXMAIL_AMQP_URL", "TXMAIL_DB_SOCKET", "TXMAIL_DB_NAME",
            "TXMAIL_CONF", "TXMAIL_SPAMD"):
    check(E.get(var), "env has %s" % var)

r = dns_resolver()
mx = [str(x.exchange).rstrip(".") for x in r.resolve("example.test", "MX")]
eq(mx, ["mx.example.test"], "MX of example.test")
eq([str(a) for a in r.resolve("mx.example.test", "A")], ["127.0.0.1"], "A of the MX")
eq([str(x) for x in r.resolve("nullmx.test", "MX")], ["0 ."], "null MX record")
try:
    r.resolve("nonexistent.test", "A")
    fail("nonexistent.test resolved")
except Exception as e:  # noqa: BLE001
    eq(type(e).__name__, "NXDOMAIN", "unknown test names are NXDOMAIN")
txt = b"".join(b"".join(x.strings) for x in r.resolve("txdemo._domainkey." + E["TXMAIL_DEMO_DOMAIN"], "TXT"))
check(txt.startswith(b"v=DKIM1; k=rsa; p=MII"), "demo DKIM key is published")

rcpt = uniq("stack") + "@example.test"
body = ("From: a@example.com\r\nTo: %s\r\nSubject: stack\r\n\r\n.leading dot\r\nline\r\n" % rcpt)
s = smtplib.SMTP("127.0.0.1", int(E["TXMAIL_SINK_PORT"]), timeout=10)
s.starttls()
s.sendmail("a@example.com", [rcpt], body.encode())
s.quit()
meta, raw = sink_wait(rcpt)[0]
eq(raw, body.encode(), "the sink keeps the message exactly as sent")
eq(meta["tls"], True, "the sink recorded TLS")
eq(meta["mailFrom"], "a@example.com", "the sink recorded MAIL FROM")
done()
