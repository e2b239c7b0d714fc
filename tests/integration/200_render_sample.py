"""txmail-render: the sample JobRequest (shared/api/samples) as txmail-rest
normalizes it -> one message per address (to, cc, bcc) with the headers and
MIME structure of contract §8 (samples/README.md expectations), DKIM-signed
(verified by dkimpy), forwarded to deliver with the data of
docs/ENVELOPES.md; events INTAKE, PROCESSING_STARTED, PROCESSING_FINISHED
with the contract's tags."""
from txtest import *
from rendertest import *
import txtrack

cap = Capture("sample")
acct = demo_account()
req = sample("sample-jobrequest.json")
job = new_job()
data = rest_data(acct, req, job)
submit(acct, job, data)

msgs = cap.wait_messages(job, 3)
eq(len(msgs), 3, "one message per address of the block (to, cc, bcc)")
by_rid = {e["rid"]: (e, r) for e, r in msgs}
rids = [rid(job, 0, i) for i in range(3)]
eq(sorted(by_rid), rids, "recipient ids of the three copies")

for i, r in enumerate(rids):
    env, raw = by_rid[r]
    eq(env["type"], "message", "envelope type")
    eq(env["slip"], ["deliver"], "slip popped to the next stage")
    d = env["data"]
    eq(d["rcpt"], ["to@example.com", "cc@example.com", "bcc@example.com"][i], "RCPT TO of copy %d" % i)
    eq(d["mailFrom"], "smtp-from@example.com", "MAIL FROM: the bare from (no bounce domain)")
    eq(d["from"], "smpt_from_friendly<smtp-from@example.com>", "from as submitted")
    eq(d["mimeFrom"], "mime_from_friendly<mime-from@example.com>", "mimeFrom as submitted")
    eq(d["reference"], "rcpt-632cdc56-6480-406b-8faf-5a7e70876d0c", "block reference")
    eq(d["messageId"], "<%s@txmail.test>" % r, "Message-ID from the installation's default domain")
    eq(d["kind"], ["to", "cc", "bcc"][i], "kind")
    eq((d["smtputf8"], d["eightbit"], d["tlsEnforced"]), (False, False, False), "flags")
    eq(d["referenceJob"], "rcpt-632cdc56-6480-406b-8faf-5a7e70876d0c", "referenceJob carried")
    eq(d["size"], len(raw), "size of the raw message")
    check_wire(raw, "copy %d" % i)
    check(dkim_verify(raw), "copy %d: DKIM signature verified by dkimpy" % i)

    m = parse(raw)
    eq(m["Message-ID"], "<%s@txmail.test>" % r, "Message-ID header carries the recipient id")
    eq(str(m["From"]), "mime_from_friendly <mime-from@example.com>", "From: mimeFrom with display name")
    eq(str(m["To"]), "to_friendly <to@example.com>", "To:")
    eq(str(m["Cc"]), "cc_friendly <cc@example.com>", "Cc:")
    eq(m["Bcc"], None, "no Bcc: header")
    check(b"bcc@example.com" not in header_block(raw), "the Bcc address appears nowhere in the header")
    eq(str(m["Reply-To"]), "rt_friendly <reply-to@example.com>", "recipient-level Reply-To wins")
    eq(str(m["In-Reply-To"]), "<in-reply-to-rcpt@example.com>", "In-Reply-To with brackets added")
    eq((m["X-Priority"], m["Importance"]), ("1", "high"), "block priority HIGH overrides job NORMAL")
    eq(str(m["Subject"]), "subject", "Subject")
    check(b"Subject: =?UTF-8?B?c3ViamVjdA==?=" in raw, "Subject B-encoded as contentTransferEncoding base64 asks")
    eq(m["MIME-Version"], "1.0", "MIME-Version")
    check(m["Date"] is not None and m["Date"].datetime is not None, "a valid Date:")
    eq(m["List-Unsubscribe"], None, "custom_email_address is neither address nor URL: no List-Unsubscribe")
    eq(str(m["x-rcpt-header1"]), "N9ayCtjI7sVr743k", "recipient xHeader 1")
    eq(str(m["x-rcpt-header2"]), "opgjivudriojge4\u00fco", "recipient xHeader 2 decodes to the ü value")
    check(re.search(rb"x-rcpt-header2: =\?UTF-8\?Q\?opgjivudriojge4=C3=BCo\?=", raw) is not None,
          "the ü value is RFC 2047-encoded on the wire")
    eq(str(m["x-job-header1"]), "sR6RzJPf5sm0zIRF", "job xHeader 1 merged in")
    eq(str(m["x-job-header2"]), "gt6bvzdgrfdgzrb", "job xHeader 2 merged in")
    eq(m.get_content_type(), "multipart/mixed", "outermost part: multipart/mixed")
    parts = list(m.iter_parts())
    eq([p.get_content_type() for p in parts], ["multipart/alternative", "application/pdf"],
       "alternative text + HTML, then the attachment")
    alt = list(parts[0].iter_parts())
    eq([p.get_content_type() for p in alt], ["text/plain", "text/html"], "text/plain first, then text/html")
    eq(alt[0].get_content(), "plain alternative", "text part (base64 of the sample used as plain text)")
    eq(alt[0]["Content-Transfer-Encoding"], "base64", "text part in the requested base64")
    html = alt[1].get_content()
    px = re.fullmatch(r'<html><body>hello world<img src="%s/t/o/([A-Za-z0-9_-]+)\.gif" width="1" height="1" '
                      r'alt="" border="0"></body></html>' % re.escape(E["TXMAIL_TRACK_URL"]), html)
    check(px is not None, "HTML part as plain text (§4.6) with the open pixel before </body> (§15.2): %s" % html)
    eq(txtrack.decode(px.group(1))[:4], ("o", job, 0, i), "the pixel's token is this copy's (job, block, address)")
    eq(alt[1]["Content-Transfer-Encoding"], "base64", "HTML part in the requested base64")
    eq(parts[1].get_filename(), "name.pdf", "attachment file name")
    eq(parts[1].get_content_disposition(), "attachment", "Content-Disposition: attachment")
    eq(parts[1]["Content-Transfer-Encoding"], "base64", "attachments always base64")
    eq(parts[1].get_content(), b"name", "attachment content")

# copies differ only in Message-ID (and the signature over it)
def strip(raw, r):
    h, b = raw.split(b"\r\n\r\n", 1)
    h = re.sub(rb"DKIM-Signature:.*?(?=\r\n[^ \t])\r\n", b"", h, flags=re.S)
    parts = [p.get_content() for p in parse(raw).walk() if not p.is_multipart()]
    parts = [re.sub(r"/t/o/[A-Za-z0-9_-]+\.gif", "/t/o/TOKEN.gif", p) if isinstance(p, str) else p for p in parts]
    return h.replace(r.encode(), b"RID"), repr(parts)
eq(len({strip(by_rid[r][1], r) for r in rids}), 1,
   "the three copies are identical but for Message-ID and their tracking token (§8.1)")

# events: intake record, STARTED and FINISHED per address, in this order, with the contract's tags
evs = cap.wait_events(job, lambda e: len([x for x in e if x.get("subType") == "PROCESSING_FINISHED"]) == 3,
                      what="three PROCESSING_FINISHED events")
intake = [e for e in evs if e.get("type") == "INTAKE"]
eq(len(intake), 1, "one intake record")
eq([(x["rid"], x["kind"], x["dropped"]) for x in intake[0]["recipients"]],
   [(rids[0], "to", False), (rids[1], "cc", False), (rids[2], "bcc", False)], "intake recipients")
eq(intake[0]["mailFrom"], "smpt_from_friendly<smtp-from@example.com>", "intake mailFrom")
eq(intake[0]["senderDomainId"], acct["domain_id"], "intake sender domain")
for i, r in enumerate(rids):
    mine = [e for e in evs if e.get("rid") == r and e.get("phase") == "PROCESS"]  # deliver adds its own
    eq([e["subType"] for e in mine], ["PROCESSING_STARTED", "PROCESSING_FINISHED"], "events of %s in order" % r)
    st, fin = mine
    eq(st["tag"], tag(r, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED"), "STARTED tag (§11.5)")
    eq(fin["tag"], tag(r, "PROCESS", "INTERMEDIATE", "PROCESSED", "PROCESSING_FINISHED"), "FINISHED tag")
    eq(fin["content"]["mime"]["messageId"], "<%s@txmail.test>" % r, "content.mime.messageId")
    eq(fin["size"], len(by_rid[r][1]), "size of the built message")
    eq(fin["mail"]["email"], ["to_friendly<to@example.com>", "cc_friendly<cc@example.com>",
                              "bcc_friendly<bcc@example.com>"][i], "mail.email as submitted")
    eq(fin["mail"]["from"], "smpt_from_friendly<smtp-from@example.com>", "mail.from")
    eq(fin["mail"]["mimeFrom"], "mime_from_friendly<mime-from@example.com>", "mail.mimeFrom")
    eq(fin["mail"]["reference"], "rcpt-632cdc56-6480-406b-8faf-5a7e70876d0c", "mail.reference")
    eq(fin["received"], intake[0]["received"], "received = acceptance time")
check(evs.index(intake[0]) < min(evs.index(e) for e in evs if e.get("type") == "STARTED"),
      "the intake record comes before PROCESSING_STARTED")
cap.delete()
done()
