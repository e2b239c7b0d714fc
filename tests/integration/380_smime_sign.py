"""txmail-smime end to end (contract §16.5): a REST job and an SMTP job
(X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE: true) with Message Signing arrive at
the sink as multipart/signed (protocol application/pkcs7-signature,
micalg sha-256); `openssl cms -verify -CAfile <test CA>` succeeds and gives
back the original entity, the signer is the sender's certificate (with the
chain), DKIM (signed again after S/MIME) verifies with dkimpy; a changed
body fails both (negative controls). The other headers are kept."""
import email
import email.policy

from txtest import *
from smimetest import *
from smtpdtest import Raw, transaction
from rendertest import Capture
import json
import txrest

cap = Capture("smime380", out_key="smime")  # a copy of what render sends to the smime stage

acct = signing_account()
stack("publish-dns")  # the new domain's DKIM key
sender = "Signer@" + acct["domain"]
ca = make_ca()
crt, key = make_cert("signer", sender.lower())
ctl("smime", "add", acct["name"], sender, "--cert", crt, "--key", key, "--chain", ca)
c = txrest.Client(user=acct["user"], password=acct["password"])


def check_signed(raw, what, subject, body_text):
    check(b"\n" not in raw.replace(b"\r\n", b""), "%s: CRLF" % what)
    m = email.message_from_bytes(raw, policy=email.policy.default)
    eq(m.get_content_type(), "multipart/signed", "%s: multipart/signed" % what)
    eq(m.get_param("protocol"), "application/pkcs7-signature", "%s: protocol" % what)
    eq(m.get_param("micalg"), "sha-256", "%s: micalg" % what)
    eq(str(m["Subject"]), subject, "%s: Subject kept" % what)
    eq(m["From"].addresses[0].addr_spec, sender, "%s: From kept" % what)
    check(m["Message-ID"] is not None and m["Date"] is not None, "%s: Message-ID and Date kept" % what)
    parts = list(m.iter_parts())
    eq(len(parts), 2, "%s: two parts" % what)
    eq(parts[1].get_content_type(), "application/pkcs7-signature", "%s: the signature part" % what)
    ok, content, signer = cms_verify(raw, ca, what.replace(" ", "_"))
    check(ok, "%s: openssl cms -verify with the test CA succeeds" % what)
    eq(fingerprint(signer), fingerprint(crt), "%s: the signer is the sender's certificate" % what)
    inner = email.message_from_bytes(content, policy=email.policy.default)
    texts = [p.get_content() for p in inner.walk() if p.get_content_type() == "text/plain"]
    check(any(body_text in t for t in texts), "%s: the verified content is the original body (%r)" % (what, texts))
    # the certificates in the signature: signer and chain (the CA)
    p7 = path(what.replace(" ", "_") + ".p7s")
    with open(p7, "wb") as f:
        f.write(parts[1].get_content())
    certs = openssl("pkcs7", "-inform", "DER", "-in", p7, "-print_certs", "-noout").stdout.decode()
    check("CN = signer" in certs and "CN = txmail test CA" in certs, "%s: signer and chain included" % what)
    asn = openssl("cms", "-cmsout", "-inform", "DER", "-in", p7, "-print").stdout.decode()
    check("SMIMECapabilities" in asn or "S/MIME Capabilities" in asn, "%s: SMIMECapabilities attribute" % what)
    # DKIM last, over the signed message
    sigs = [h for h in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n") if h.lower().startswith(b"dkim-signature:")]
    eq(len(sigs), 1, "%s: one DKIM-Signature (render's replaced)" % what)
    check(raw.startswith(b"DKIM-Signature:"), "%s: DKIM-Signature first" % what)
    check(dkim_verify(raw), "%s: DKIM verifies (dkimpy, test DNS)" % what)
    # negative controls: a changed body
    bad = raw.replace(body_text.encode(), body_text.upper().encode(), 1)
    check(bad != raw, "%s: tampered copy differs" % what)
    ok2, _, _ = cms_verify(bad, ca, what.replace(" ", "_") + "_bad")
    check(not ok2, "%s: a changed body fails openssl cms -verify" % what)
    try:
        dk = dkim_verify(bad)
    except Exception:  # noqa: BLE001 - dkimpy raises on a body hash mismatch
        dk = False
    check(not dk, "%s: a changed body fails DKIM" % what)


# ---------------------------------------------------------------- REST
rcpt = uniq("sm") + "@example.test"
req = {"subject": {"content": "signed REST"},
       "body": {"contentType": "text/plain", "content": "Hello signed world \u00fc"},
       "mail": {"from": {"email": "Signer <%s>" % sender}},
       "job": {"options": {"messageSigning": {"active": True}}},
       "recipients": [{"mail": {"to": [{"email": rcpt}]}}]}
st, _, data, doc_rest = c.post(req)
eq(st, 200, "REST job with message signing accepted: %s" % data[:200])
(meta, raw), = sink_wait(rcpt, 1, timeout=60)
check_signed(raw, "REST", "signed REST", "Hello signed world")

# ---------------------------------------------------------------- SMTP
rcpt2 = uniq("sm") + "@example.test"
msg = ("From: Signer <%s>\r\nTo: %s\r\nSubject: signed SMTP\r\nX-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE: true\r\n"
       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello over SMTP\r\n" % (sender, rcpt2)).encode()
s = Raw()
s.login(acct["user"], acct["password"])
res = transaction(s, sender, [rcpt2], msg)
s.cmd("QUIT")
s.close()
eq([r[0] for r in res], [250, 250, 354, 250], "SMTP job with message signing accepted")
(meta, raw2), = sink_wait(rcpt2, 1, timeout=60)
check(b"X-RETARUS-M4A" not in raw2, "no X-RETARUS-M4A header at the sink")
check_signed(raw2, "SMTP", "signed SMTP", "Hello over SMTP")

# ---------------------------------------------------------------- unsigned job of the same account
rcpt3 = uniq("sm") + "@example.test"
req3 = dict(req, job={"options": {"messageSigning": {"active": False}}}, recipients=[{"mail": {"to": [{"email": rcpt3}]}}])
st, _, data, doc = c.post(req3)
eq(st, 200, "unsigned job accepted")
(meta, raw3), = sink_wait(rcpt3, 1, timeout=60)
m3 = email.message_from_bytes(raw3, policy=email.policy.default)
eq(m3.get_content_type(), "text/plain", "without message signing the message is not signed")
check(dkim_verify(raw3), "and DKIM verifies")

# ---------------------------------------------------------------- redelivery (what kill -9 before the ack gives)
envs = cap.messages(doc_rest["meta"]["jobId"])
eq(len(envs), 1, "render sent the REST message to the smime stage once")
env, body = envs[0]
publish("txmail.work", "smime", json.dumps(env).encode() + b"\n" + body)
log_path = os.path.join(E["TXMAIL_STACK_DIR"], "log", "smime-1.log")
rid_ = env["rid"]
wait_until(lambda: open(log_path).read().count("%s: to=<%s>, signer=" % (rid_, rcpt)) >= 2, 30,
           "the smime stage signed the redelivered copy")
time.sleep(2)
eq(len(sink_for(rcpt)), 1, "the same recipient id signed twice is sent once (deliver's record)")
cap.delete()
done()
