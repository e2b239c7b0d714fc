"""txmail-smime failures (contract §16.5): no certificate for the sender ->
PROCESS/FINISHED/DROPPED/PROCESSING_FAILED "no signing certificate for
<address>" and nothing at the sink; an expired certificate in the table
(put there behind txmailctl's back, which refuses it) -> the same, naming
the expiry; an 8bit SMTP message -> PROCESSING_FAILED "message signing
failed: ... 8bit ..."; the certificate added later signs the next job
(cache TTL of the stack: 2 s). A message render sent without DKIM (record
not published, policy deliver) is signed but gets no DKIM either."""
import email
import email.policy

from txtest import *
from smimetest import *
from rendertest import Capture
from smtpdtest import Raw, transaction
import txevents
import txrest

cap = Capture("smime381", out_key="t_smime381_none")
acct = signing_account()
stack("publish-dns")
ca = make_ca()
c = txrest.Client(user=acct["user"], password=acct["password"])


def job(sender, rcpt, body="plain body"):
    req = {"subject": {"content": "s"}, "body": {"contentType": "text/plain", "content": body},
           "mail": {"from": {"email": sender}}, "job": {"options": {"messageSigning": {"active": True}}},
           "recipients": [{"mail": {"to": [{"email": rcpt}]}}]}
    st, _, data, doc = c.post(req)
    eq(st, 200, "job accepted")
    return doc["meta"]["jobId"]


def failed(job_id, what):
    evs = cap.wait_events(job_id, lambda e: any(x.get("subType") == "PROCESSING_FAILED" for x in e),
                          timeout=30, what="PROCESSING_FAILED of %s" % what)
    f = [e for e in evs if e.get("subType") == "PROCESSING_FAILED"]
    eq(len(f), 1, "%s: one PROCESSING_FAILED" % what)
    eq((f[0]["phase"], f[0]["state"], f[0]["type"]), ("PROCESS", "FINISHED", "DROPPED"),
       "%s: PROCESS/FINISHED/DROPPED" % what)
    eq(f[0]["tag"], txevents.tag(f[0]["rid"], "PROCESS", "FINISHED", "DROPPED", "PROCESSING_FAILED"),
       "%s: tag of §11.5" % what)
    time.sleep(0.5)
    check(not any(e.get("phase") == "DELIVER" for e in cap.job_events(job_id)), "%s: no DELIVER event" % what)
    return f[0]


# ---------------------------------------------------------------- no certificate
nocert = "nocert@" + acct["domain"]
r1 = uniq("nc") + "@example.test"
j1 = job("No Cert <%s>" % nocert, r1)
ev = failed(j1, "no certificate")
eq(ev["description"], "no signing certificate for %s" % nocert, "description names the address")

# ---------------------------------------------------------------- expired certificate (inserted directly)
old = "old@" + acct["domain"]
crt, key = make_expired("old", old)
sql("INSERT INTO smime_cert (account_id, address, cert_pem, key_enc, fingerprint, not_before, not_after, created_at) "
    "VALUES (%s, %s, %s, %s, %s, UTC_TIMESTAMP() - INTERVAL 30 DAY, UTC_TIMESTAMP() - INTERVAL 1 DAY, UTC_TIMESTAMP(3))",
    acct["id"], old, open(crt).read(), txevents.encrypt(open(key).read()), "0" * 64)
r2 = uniq("ex") + "@example.test"
j2 = job(old, r2)
ev = failed(j2, "expired certificate")
check(ev["description"].startswith("no signing certificate for %s" % old) and "expired" in ev["description"],
      "description: no certificate, expired: %r" % ev["description"])

# ---------------------------------------------------------------- 8bit over SMTP
signer = "signer@" + acct["domain"]
crt, key = make_cert("signer", signer)
ctl("smime", "add", acct["name"], signer, "--cert", crt, "--key", key)
r3 = uniq("8b") + "@example.test"
msg = ("From: %s\r\nTo: %s\r\nSubject: 8bit\r\nX-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE: true\r\nMIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\u00fc\u00dfe\r\n"
       % (signer, r3)).encode()
s = Raw()
s.login(acct["user"], acct["password"])
res = transaction(s, signer, [r3], msg, "BODY=8BITMIME")
s.cmd("QUIT")
s.close()
eq([r[0] for r in res], [250, 250, 354, 250], "8bit SMTP job accepted")
rows = wait_until(lambda: sql("SELECT job_id FROM message WHERE account_id=%s AND email LIKE %s",
                              acct["id"], "%" + r3 + "%") or None, 30, "message row of the 8bit job")
ev = failed(rows[0][0], "8bit message")
check(ev["description"].startswith("message signing failed: ") and "8bit" in ev["description"],
      "description: 8bit refused: %r" % ev["description"])

# ---------------------------------------------------------------- the certificate added later signs
ctl("smime", "add", acct["name"], nocert, "--cert", make_cert("late", nocert)[0], "--key", path("late.key"))
time.sleep(2.5)  # smime_cert_cache_ttl of the stack
r4 = uniq("la") + "@example.test"
job("No Cert <%s>" % nocert, r4)
(meta, raw), = sink_wait(r4, 1, timeout=60)
ok, _, _ = cms_verify(raw, ca, "late")
check(ok, "signed once the certificate is there")

# ---------------------------------------------------------------- render did not sign: no DKIM after S/MIME
un = signing_account()  # its record is not published: render sends unsigned (policy deliver)
us = "u@" + un["domain"]
ctl("smime", "add", un["name"], us, "--cert", make_cert("u", us)[0], "--key", path("u.key"))
c = txrest.Client(user=un["user"], password=un["password"])
r5 = uniq("un") + "@example.test"
job(us, r5)
(meta, raw), = sink_wait(r5, 1, timeout=60)
check(cms_verify(raw, ca, "un")[0], "unsigned domain: S/MIME signed")
check(b"DKIM-Signature" not in raw, "render did not DKIM-sign: no DKIM-Signature after S/MIME either")

time.sleep(1)
for r in (r1, r2, r3):
    eq(sink_for(r), [], "nothing at the sink for %s" % r)
cap.delete()
done()
