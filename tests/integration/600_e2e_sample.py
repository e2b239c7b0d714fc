"""End to end with the contract's sample JobRequest: REST -> render ->
deliver -> the sink -> recorder and notify. Checked independently: the
messages at the sink with Python's email package and dkimpy, the webhooks
(shape of contract §11.4, headers, Basic auth, signature of §11.3), the
message and event rows."""
import email
import email.policy
import hashlib
import hmac

from txtest import *
import txrest

hook = WebhookReceiver()
acct = new_account(domain="example.com", selector=uniq("s"))
stack("publish-dns")
req = sample("sample-jobrequest.json")
# the sample posts to a real host: point it at our receiver, keep its headers and auth
req["notification"]["endPoint"]["url"] = hook.url
# unique addresses per run (the sink keeps everything), same shape as the sample
tag_ = uniq("s")
for kind in ("to", "cc", "bcc"):
    e = req["recipients"][0]["mail"][kind][0]
    name = e["email"].split("<")[0]
    e["email"] = "%s<%s-%s@example.com>" % (name, tag_, kind)
addrs = {"to": "%s-to@example.com" % tag_, "cc": "%s-cc@example.com" % tag_, "bcc": "%s-bcc@example.com" % tag_}

c = txrest.Client(user=acct["user"], password=acct["password"])
st, hdrs, raw, doc = c.post(req)
eq(st, 200, "the sample is accepted")
eq(doc["meta"]["state"], {"type": "ACCEPTED", "subType": "FULL", "phase": "PRE_PROCESS"}, "answer state")
job = doc["meta"]["jobId"]
rids = {"to": job + "#00000000#00000000", "cc": job + "#00000000#00000001", "bcc": job + "#00000000#00000002"}

# ---------------------------------------------------------------- the sink
msgs, raws = {}, {}
for kind, a in addrs.items():
    (meta, data), = sink_wait(a, 1, timeout=60)
    raws[kind] = data
    msgs[kind] = email.message_from_bytes(data, policy=email.policy.default)
    check(dkim_verify(data), "DKIM of the %s copy verifies (dkimpy, test DNS)" % kind)
    eq(meta["rcptTo"], [a], "one envelope recipient per copy (%s)" % kind)
    check(b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), "CRLF line ends (%s)" % kind)
    check(max(len(l) for l in data.split(b"\r\n")) <= 998, "no line over 998 octets (%s)" % kind)
m = msgs["to"]
eq(m.get_content_type(), "multipart/mixed", "outermost part")
parts = [p.get_content_type() for p in m.walk()]
check("multipart/alternative" in parts and "text/plain" in parts and "text/html" in parts,
      "alternative text + HTML inside: %r" % parts)
att = [p for p in m.walk() if p.get_filename() == "name.pdf"]
eq(len(att), 1, "attachment name.pdf")
eq(att[0].get_content(), b"name", "attachment content decodes to the submitted bytes")
eq(str(m["From"]), "mime_from_friendly <mime-from@example.com>", "From: is mimeFrom")
eq(m["Reply-To"].addresses[0].addr_spec, "reply-to@example.com", "block-level Reply-To wins")
eq(str(m["In-Reply-To"]), "<in-reply-to-rcpt@example.com>", "In-Reply-To with brackets")
eq((str(m["X-Priority"]), str(m["Importance"])), ("1", "high"), "priority HIGH")
eq(str(m["x-rcpt-header2"]), "opgjivudriojge4üo", "xHeader with ü decodes")
check(b"\r\nx-rcpt-header2: =?utf-8?" in raws["to"].lower(), "and is RFC 2047-encoded on the wire")
eq(m["Bcc"], None, "no Bcc header")
eq(m["List-Unsubscribe"], None, "custom_email_address gives no List-Unsubscribe")
for kind in ("to", "cc", "bcc"):
    eq(str(msgs[kind]["Message-ID"]).split("@")[0], "<" + rids[kind], "Message-ID carries the %s id" % kind)
    eq(msgs[kind]["To"].addresses[0].addr_spec, addrs["to"], "To: shows the block's to (%s copy)" % kind)

# ---------------------------------------------------------------- webhooks
secret = acct["webhook_secret"].encode()
want = {(r, t) for r in rids.values() for t in ("PROCESSING_STARTED", "PROCESSING_FINISHED", "OK")}


def got():
    return {(n["meta"]["mail"]["id"], n["meta"]["event"]["subType"]) for _, n, _ in hook.notifications()}


wait_until(lambda: want <= got(), 60, "STARTED, FINISHED and DELIVERED for the three addresses")
for top, n, r in hook.notifications():
    h = {k.lower(): v for k, v in r["headers"].items()}
    eq(h.get("notification-header1"), "sR6RzJPf5sm0zIRF", "custom header 1")
    eq(h.get("notification-header2"), "fetwetrsavrgz", "custom header 2")
    eq(h.get("authorization"), "Basic " + base64.b64encode(b"RT_MailNotif:dfghoxjuvnzeso374i").decode(),
       "Basic authentication of the endpoint")
    eq(h.get("content-type"), "application/json", "Content-Type")
    t, v1 = h["x-txmail-signature"].split(",")[0][2:], h["x-txmail-signature"].split("v1=")[1].split(",")[0]
    eq(v1, hmac.new(secret, t.encode() + b"." + r["body"], hashlib.sha256).hexdigest(),
       "X-Txmail-Signature is HMAC-SHA256(t.body) with the account's secret")
    eq(top["version"], "1", "meta.version")
    eq(top["jobId"], job, "meta.jobId")
    eq(top["account"], acct["name"], "meta.account")
    eq(top["customerNo"], "4711", "meta.customerNo")
    eq((top["referenceJob"], top["costCenter"], top["campaignId"]),
       ("rcpt-632cdc56-6480-406b-8faf-5a7e70876d0c", "cost-center", "zOsVEmBBV3TYzTPe"), "job references echoed")
    check(top["receivedTs"] == doc["meta"]["receivedTs"], "meta.receivedTs is the acceptance time")
    mail, ev = n["meta"]["mail"], n["meta"]["event"]
    check(len(n["meta"]["tag"]) == 64, "tag of 64 hex")
    eq(mail["from"], "smpt_from_friendly<smtp-from@example.com>", "meta.mail.from as submitted")
    eq(mail["mimeFrom"], "mime_from_friendly<mime-from@example.com>", "meta.mail.mimeFrom")
    eq(mail["reference"], "rcpt-632cdc56-6480-406b-8faf-5a7e70876d0c", "meta.mail.reference (block reference)")
    check(ev["ts"].endswith("Z") and len(ev["ts"]) == 24, "event.ts in UTC with milliseconds")
    if ev["subType"] == "OK":
        eq((ev["phase"], ev["state"], ev["type"]), ("DELIVER", "FINISHED", "DELIVERED"), "DELIVERED event")
        check(ev["description"].startswith("[2.0.0] delivered (host mx.example.com[127.0.0.1] said: 250"),
              "description as §10.2: " + ev["description"])
        check(n["content"]["mime"]["messageId"].startswith("<" + mail["id"] + "@"), "content.mime.messageId")
        break

# ---------------------------------------------------------------- database
rows = wait_until(lambda: (lambda r: r if len(r) == 3 and all(x[1] == "DELIVERED" for x in r) else None)(
    sql("SELECT rid, last_type, smtp_code, size, final_at IS NOT NULL, mail_from FROM message WHERE job_id=%s "
        "ORDER BY rid", job)), 30, "three message rows, final DELIVERED")
for r in rows:
    eq((r[2], r[4]), ("250", 1), "%s: SMTP code and final time" % r[0])
    check(r[3] > 1000, "%s: size recorded (%d)" % (r[0], r[3]))
evs = sql("SELECT rid, type, subtype FROM event WHERE job_id=%s", job)
for r in rids.values():
    eq(sorted(x[2] for x in evs if x[0] == r), ["OK", "PROCESSING_FINISHED", "PROCESSING_STARTED"],
       "events recorded once each for %s" % r)
hook.stop()
done()
