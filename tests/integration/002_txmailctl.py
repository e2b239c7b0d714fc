"""txmailctl: accounts, credentials (KDF hash, allowed IPs), domains with
DKIM keys and DNS records, clear errors with non-zero exit."""
import subprocess
from txtest import *

name = uniq("ctl")
rc, out, _ = ctl("account", "add", name, "--customer-no", "12345", "--tenant", "Ten ant",
                 "--settings", '{"features":{"antivirus":true}}')
check("created" in out and "webhook secret" in out, "account add reports the account and its secret")
secret = out.strip().split()[-1]
eq(len(secret), 64, "webhook secret length")
row = sql("SELECT customer_no, tenant, webhook_secret FROM account WHERE name=%s", name)[0]
eq(row[:2], ("12345", "Ten ant"), "account columns")
check(secret.encode() not in row[2] and row[2].startswith(b"v1:"), "webhook secret is encrypted at rest")

rc, out, err = ctl("account", "add", name, check_rc=False)
check(rc == 1 and "exists already" in err, "duplicate account refused: " + err.strip())
rc, out, err = ctl("account", "add", "bad name!", check_rc=False)
check(rc == 1 and "account name" in err, "bad account name refused")
rc, out, err = ctl("account", "add", uniq("x"), "--settings", "{not json", check_rc=False)
check(rc == 1 and "--settings" in err, "bad settings JSON refused")

_, out, _ = ctl("account", "list")
check(name in out, "account list shows the account")
_, out, _ = ctl("account", "show", name)
check('"antivirus": true' in out and "12345" in out, "account show prints merged settings")

rc, _, err = ctl("credential", "add", name, "u-" + name, "--password", "x", check_rc=False)
check(rc == 1 and "never taken from the command line" in err, "password on argv refused")
rc, _, err = ctl("credential", "add", name, "u-" + name, "--password-file", "-", "--allow-ip", "10.0.0.0/8",
                 stdin="longpassword\n", check_rc=False)
check(rc == 1 and "no ranges" in err, "IP ranges refused")
rc, _, err = ctl("credential", "add", name, "u-" + name, "--password-file", "-", stdin="short\n", check_rc=False)
check(rc == 1 and "at least 8" in err, "short password refused")
ctl("credential", "add", name, "u-" + name, "--password-file", "-", "--allow-ip", "127.0.0.1,::1",
    stdin="longpassword\n")
h, ips = sql("SELECT pw_hash, allowed_ips FROM credential WHERE username=%s", "u-" + name)[0]
check(h.startswith("pbkdf2-sha256$200000$") and "longpassword" not in h, "password stored as PBKDF2 hash")
eq(ips, "127.0.0.1,::1", "allowed IPs stored")
rc, _, err = ctl("credential", "add", name, "u-" + name, "--password-file", "-", stdin="longpassword\n",
                 check_rc=False)
check(rc == 1 and "exists already" in err, "duplicate user refused")

dom = name + ".test"
_, out, err = ctl("domain", "add", name, dom, "--selector", "sel1", "--ed25519")
check('sel1._domainkey.%s. IN TXT "v=DKIM1; k=rsa; p=MII' % dom in out, "RSA DKIM record printed")
check('sel1ed._domainkey.%s. IN TXT "v=DKIM1; k=ed25519; p=' % dom in out, "Ed25519 DKIM record printed")
check("v=spf1" in out and "_dmarc.%s" % dom in out, "SPF and DMARC suggestion printed")
check("no MX record" in err, "missing MX reported as a warning: " + err.strip())
key, pub = sql("SELECT dkim_key, dkim_public FROM sender_domain WHERE domain=%s", dom)[0]
check(key.startswith(b"v1:") and b"PRIVATE KEY" not in key, "DKIM key encrypted at rest")
rc, _, err = ctl("domain", "add", name, dom, check_rc=False)
check(rc == 1 and "already" in err, "duplicate domain refused")
rc, _, err = ctl("domain", "add", name, "-bad-.test", check_rc=False)
check(rc == 1 and "not a valid domain" in err, "bad domain refused")
rc, _, err = ctl("domain", "add", "nosuchaccount", "x.test", check_rc=False)
check(rc == 1 and "no account" in err, "unknown account refused")
_, out, _ = ctl("domain", "show", dom)
check("sel1._domainkey" in out and name in out, "domain show prints the records")
_, out, _ = ctl("domain", "list", name)
check(dom in out, "domain list")

# configuration check: -n prints non-defaults, a bad value names file:line
p = subprocess.run([BIN + "/txmailctl", "-c", CONF, "-n"], capture_output=True, text=True)
check(p.returncode == 0 and "broker_url = amqp://" in p.stdout and "(secret" in p.stdout,
      "-n prints non-default parameters with secrets masked")
bad = E["TXMAIL_STACK_DIR"] + "/bad.conf"
with open(bad, "w") as f:
    f.write("db_port = 3306\n\ndb_port = 99999\n")
p = subprocess.run([BIN + "/txmailctl", "-c", bad, "-n"], capture_output=True, text=True)
check(p.returncode == 1 and "bad.conf:3: db_port: value 99999 out of range" in p.stderr,
      "bad value names file:line: " + p.stderr.strip())
p = subprocess.run([BIN + "/txmailctl", "-c", CONF, "-o", "db_prot=1", "-n"], capture_output=True, text=True)
check(p.returncode == 1 and 'unknown parameter "db_prot"' in p.stderr, "unknown -o parameter refused")
done()
