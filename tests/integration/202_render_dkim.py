"""txmail-render: DKIM (contract §10.4). An RSA domain and an RSA+Ed25519
domain (txmailctl domain add --ed25519, published with publish-dns): every
signature verifies with dkimpy against the test DNS, a changed message does
not. A key whose published record is missing: policy deliver -> sent
unsigned (PROCESSING_FINISHED); policy drop -> DELIVER/FINISHED/DROPPED/
INVALID_DKIM_SIGNATURE and nothing forwarded. Signed header list."""
from txtest import *
from rendertest import *

cap = Capture("dkim")


def verifies(raw):
    try:
        return dkim_verify(raw)
    except Exception:  # noqa: BLE001 - dkimpy raises on a body hash mismatch
        return False


def one(acct, to="rcpt@example.org"):
    job = new_job()
    r = {"subject": {"content": "DKIM \u00fc"}, "body": {"contentType": "text/html", "content": "<p>hi</p>"},
         "mail": {"from": {"email": "Shop <shop@%s>" % acct["domain"]}, "replyTo": {"email": "help@%s" % acct["domain"]},
                  "listUnsubscribe": "https://u.example.com/u"},
         "recipients": [{"mail": {"to": [{"email": to}], "cc": [{"email": "cc@example.org"}]}}]}
    submit(acct, job, rest_data(acct, r, job))
    return job


rsa = account_with_domain()
ed = account_with_domain(ed25519=True)
unpublished = account_with_domain(publish=False)
drop = account_with_domain(publish=False, dkim_policy="drop")
# publish-dns for the first two happened before the last two were created: their records are absent

j_rsa, j_ed, j_unpub, j_drop = one(rsa), one(ed), one(unpublished), one(drop)

raw = cap.wait_messages(j_rsa, 2)[0][1]
sigs = re.findall(rb"^DKIM-Signature:.*?(?=\r\n[^ \t])", raw, re.S | re.M)
eq(len(sigs), 1, "RSA domain: one signature")
check(b"a=rsa-sha256" in sigs[0] and b"c=relaxed/relaxed" in sigs[0], "rsa-sha256, relaxed/relaxed")
check(("d=%s" % rsa["domain"]).encode() in sigs[0] and b"s=s1;" in sigs[0], "d= the sender domain, s= its selector")
h = re.search(rb"h=([^;]*);", sigs[0]).group(1).replace(b"\r\n", b"").replace(b"\t", b"").replace(b" ", b"")
signed = h.decode().split(":")
for name in ["from", "to", "cc", "subject", "date", "message-id", "reply-to", "mime-version", "content-type",
             "list-unsubscribe"]:
    check(name in signed, "%s is signed" % name)
eq(signed.count("from"), 2, "From over-signed")
check(raw.startswith(b"DKIM-Signature:"), "the signature is the first field (added last)")
check(dkim_verify(raw), "RSA signature verified by dkimpy")
check(not verifies(raw.replace(b"<p>hi</p>", b"<p>Hi</p>")), "a changed body fails verification")
check(not verifies(raw.replace(b"Subject: ", b"Subject: X")), "a changed subject fails verification")

raw = cap.wait_messages(j_ed, 2)[0][1]
sigs = re.findall(rb"^DKIM-Signature:.*?(?=\r\n[^ \t])", raw, re.S | re.M)
eq(sorted(re.search(rb"a=([a-z0-9-]+)", s).group(1) for s in sigs), [b"ed25519-sha256", b"rsa-sha256"],
   "Ed25519 domain: rsa-sha256 and ed25519-sha256")
check(dkim_verify(raw), "both signatures verified by dkimpy")
import dkim as _dkim  # check the Ed25519 one on its own
d = _dkim.DKIM(raw)
idx = [i for i, hdr in enumerate(h for h in d.headers if h[0].lower() == b"dkim-signature")]
res = dns_resolver()


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    try:
        ans = res.resolve(name.rstrip("."), "TXT")
    except Exception:  # noqa: BLE001
        return b""
    return b"".join(b"".join(r.strings) for r in ans)


ed_ok = [d.verify(idx=i, dnsfunc=dnsfunc) for i in idx]
eq(ed_ok, [True, True], "each signature verifies on its own")

env, raw = cap.wait_messages(j_unpub, 2)[0]
check(b"DKIM-Signature" not in raw, "policy deliver, record not published: sent unsigned")
evs = cap.wait_events(j_unpub, lambda e: len([x for x in e if x.get("subType") == "PROCESSING_FINISHED"]) == 2,
                      what="PROCESSING_FINISHED of the unsigned copies")
check(all(e.get("phase") != "DELIVER" or e.get("subType") != "INVALID_DKIM_SIGNATURE" for e in evs),
      "no INVALID_DKIM_SIGNATURE under policy deliver")

evs = cap.wait_events(j_drop, lambda e: len([x for x in e if x.get("subType") == "INVALID_DKIM_SIGNATURE"]) == 2,
                      what="INVALID_DKIM_SIGNATURE drops")
dr = [e for e in evs if e.get("subType") == "INVALID_DKIM_SIGNATURE"]
eq(sorted(e["rid"] for e in dr), [rid(j_drop, 0, 0), rid(j_drop, 0, 1)], "one drop per address")
for e in dr:
    eq((e["phase"], e["state"], e["type"]), ("DELIVER", "FINISHED", "DROPPED"), "DELIVER/FINISHED/DROPPED")
    eq(e["tag"], tag(e["rid"], "DELIVER", "FINISHED", "DROPPED", "INVALID_DKIM_SIGNATURE"), "drop tag")
    check("does not match" in e["description"] or "missing" in e["description"], "description names why")
    eq(e["content"]["mime"]["messageId"], "<%s@txmail.test>" % e["rid"], "messageId of the dropped copy")
time.sleep(0.5)
eq(cap.messages(j_drop), [], "nothing forwarded for a dropped domain")
check(not any(e.get("subType") == "PROCESSING_FINISHED" for e in cap.job_events(j_drop)),
      "no PROCESSING_FINISHED for dropped copies")

# once the record is published, the same domain signs again (checked every 2 s in the stack)
stack("publish-dns")
time.sleep(2.5)
j2 = one(drop)
raw = cap.wait_messages(j2, 2, timeout=20)[0][1]
check(dkim_verify(raw), "after publishing the record the drop-policy domain signs and verifies")
cap.delete()
done()
