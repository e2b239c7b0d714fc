"""txmailctl smime add/list/remove (contract §16.5): a certificate for the
address is stored with its chain, the private key only encrypted under the
master key (no PEM in the table, never on the output); refusals: a key of
another certificate, an address the certificate does not name, an expired
certificate, an unknown account; subject emailAddress accepted without
subjectAltName; add again replaces; remove of an absent address fails."""
from txtest import *
from smimetest import *
import txevents

acct = signing_account()
addr = "Signer@" + acct["domain"]
low = addr.lower()
ca = make_ca()
crt, key = make_cert("signer", low)
other_crt, other_key = make_cert("other", "other@" + acct["domain"])
subj_crt, subj_key = make_cert("subj", "subj@" + acct["domain"], san=False, key="ec")
old_crt, old_key = make_expired("old", "old@" + acct["domain"])
key_pem = open(key).read()

# ---------------------------------------------------------------- refusals (nothing stored)
rc, out, err = ctl("smime", "add", acct["name"], addr, "--cert", crt, "--key", other_key, check_rc=False)
eq(rc, 1, "a key of another certificate is refused")
check("the key does not match the certificate" in err and "nothing stored" in err, "says why: %r" % err)
rc, out, err = ctl("smime", "add", acct["name"], "nobody@" + acct["domain"], "--cert", crt, "--key", key,
                   check_rc=False)
eq(rc, 1, "an address the certificate does not name is refused")
check("does not name nobody@" in err, "says why: %r" % err)
rc, out, err = ctl("smime", "add", acct["name"], "old@" + acct["domain"], "--cert", old_crt, "--key", old_key,
                   check_rc=False)
eq(rc, 1, "an expired certificate is refused")
check("expired" in err, "says why: %r" % err)
rc, out, err = ctl("smime", "add", uniq("noacct"), addr, "--cert", crt, "--key", key, check_rc=False)
eq(rc, 1, "an unknown account is refused")
rc, out, err = ctl("smime", "add", acct["name"], addr, "--cert", crt, check_rc=False)
eq(rc, 2, "--key is required (usage)")
eq(sql("SELECT COUNT(*) FROM smime_cert WHERE account_id=%s", acct["id"])[0][0], 0, "nothing stored by refusals")

# ---------------------------------------------------------------- add
rc, out, err = ctl("smime", "add", acct["name"], addr, "--cert", crt, "--key", key, "--chain", ca)
check(("signing certificate for %s added" % low) in out, "added, lowercase address: %r" % out)
check("PRIVATE KEY" not in out + err and key_pem.split("\n")[1] not in out + err, "the key is not printed")
row = sql("SELECT address, cert_pem, chain_pem, key_enc, fingerprint, not_after > UTC_TIMESTAMP() "
          "FROM smime_cert WHERE account_id=%s", acct["id"])
eq(len(row), 1, "one row")
a, cert_pem, chain_pem, key_enc, fp, valid = row[0]
eq(a, low, "address stored lowercase")
eq(cert_pem.strip(), open(crt).read().strip(), "certificate PEM stored")
eq(chain_pem.strip(), open(ca).read().strip(), "chain PEM stored")
key_enc = key_enc.decode() if isinstance(key_enc, bytes) else key_enc
check(key_enc.startswith("v1:") and "PRIVATE" not in key_enc and "BEGIN" not in key_enc, "key stored encrypted")
body = key_pem.split("\n")[1]
check(body not in key_enc, "no line of the PEM key in the table")
eq(fp, fingerprint(crt).replace(":", "").lower(), "SHA-256 fingerprint of the certificate")
eq(valid, 1, "not_after in the future")

# decrypts to the key with the stack's master key (independent AES-GCM)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import base64 as b64
raw = b64.b64decode(key_enc[3:])
with open(os.path.join(E["TXMAIL_STACK_DIR"], "secrets", "master_key")) as f:
    mk = bytes.fromhex(f.read().strip())
eq(AESGCM(mk).decrypt(raw[:12], raw[12:], None).decode(), key_pem, "the stored value decrypts to the key")

# subject emailAddress without subjectAltName
ctl("smime", "add", acct["name"], "subj@" + acct["domain"], "--cert", subj_crt, "--key", subj_key)

# ---------------------------------------------------------------- list
rc, out, err = ctl("smime", "list", acct["name"])
lines = out.strip().split("\n")
eq(lines[0].split()[:4], ["ADDRESS", "NOT_BEFORE", "NOT_AFTER", "STATE"], "list header")
eq(sorted(l.split()[0] for l in lines[1:]), sorted([low, "subj@" + acct["domain"]]), "both listed")
check(all(l.split()[3] == "valid" for l in lines[1:]), "valid")
check("PRIVATE" not in out and "v1:" not in out, "list shows no key")

# ---------------------------------------------------------------- replace, remove
crt2, key2 = make_cert("signer2", low)
rc, out, err = ctl("smime", "add", acct["name"], low, "--cert", crt2, "--key", key2)
check("replaced" in out, "add again replaces: %r" % out)
eq(sql("SELECT fingerprint FROM smime_cert WHERE account_id=%s AND address=%s", acct["id"], low)[0][0],
   fingerprint(crt2).replace(":", "").lower(), "the new certificate is stored")
rc, out, err = ctl("smime", "remove", acct["name"], addr)
check("removed" in out, "removed")
rc, out, err = ctl("smime", "remove", acct["name"], addr, check_rc=False)
eq(rc, 1, "removing again fails")
check("no signing certificate for %s" % low in err, "says so: %r" % err)
eq(sql("SELECT COUNT(*) FROM smime_cert WHERE account_id=%s", acct["id"])[0][0], 1, "one left")
done()
