"""txmail-rest: one request per row of the error table (contract §6.1) and per
limit of §4.12 (at the limit: accepted; one past: the documented rejection),
malformed JSON, bad UTF-8, wrong media type, bad base64, unknown fields
(accepted and ignored). A rejected request creates nothing: no job row, no
message in the broker."""
from txtest import *
from txrest import *

setup_queues()
A = new_account(settings={"features": {"tracking": True, "templates": True, "secureDocument": True},
                          "forbiddenSenders": ["noreply"]}, domain="err.example.com")
DOM = "err.example.com"
c = Client(user=A["user"], password=A["password"])
accepted_ids = []
rejected_ids = []


def base():
    return base_request(DOM)


def setp(req, path, value):
    """Set a dotted path (numeric parts index lists) creating dicts on the way."""
    parts = path.split(".")
    cur = req
    for i, p in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        key = int(p) if isinstance(cur, list) else p
        if isinstance(cur, dict) and key not in cur:
            cur[key] = [] if nxt.isdigit() else {}
        if isinstance(cur, list):
            while len(cur) <= key:
                cur.append({})
        cur = cur[key]
    last = parts[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    elif value is DEL:
        cur.pop(last, None)
    else:
        cur[last] = value
    return req


DEL = object()


def mod(*pairs):
    req = base()
    for i in range(0, len(pairs), 2):
        setp(req, pairs[i], pairs[i + 1])
    return req


def reject(what, req, status, subtype, description, raw=None, headers=None, content_type="application/json"):
    got = c.post(req, raw=raw, headers=headers, content_type=content_type)
    doc = expect_reject(got, status, subtype, description, what)
    rejected_ids.append(doc["meta"]["jobId"])
    log("ok - %s: %d %s %s" % (what, status, subtype, description))


def accept(what, req, headers=None):
    st, hdrs, data, doc = c.post(req, headers=headers)
    if st != 200:
        fail("%s: expected 200, got %d %s" % (what, st, data[:300]))
    accepted_ids.append(doc["meta"]["jobId"])
    log("ok - %s: accepted" % what)
    return doc


att = {"name": "a.pdf", "contentType": "application/pdf", "content": "QQ=="}
ep = "notification.endPoint"

# ---------------------------------------------------------------- MISSING_VALUE
M = "MISSING_VALUE"
for what, req, path in [
    ("no subject", mod("subject", DEL), "subject.content"),
    ("subject {}", mod("subject", {}), "subject.content"),
    ("subject.content \"\"", mod("subject.content", ""), "subject.content"),
    ("subject null", mod("subject", None), "subject.content"),
    ("body without contentType", mod("body", {"content": "x"}), "body.contentType"),
    ("body without content", mod("body", {"contentType": "text/plain"}), "body.content"),
    ("alternative without content", mod("alternative", {"charset": "UTF-8"}), "alternative.content"),
    ("attachment without name", mod("attachments", [{"contentType": "a/b", "content": "QQ=="}]), "attachments[0].name"),
    ("attachment without contentType", mod("attachments", [{"name": "a", "content": "QQ=="}]), "attachments[0].contentType"),
    ("attachment without content", mod("attachments", [{"name": "a", "contentType": "a/b"}]), "attachments[0].content"),
    ("no recipients", mod("recipients", DEL), "recipients"),
    ("recipients []", mod("recipients", []), "recipients"),
    ("block without mail", mod("recipients", [{}]), "recipients[0].mail.to"),
    ("block without addresses", mod("recipients", [{"mail": {"to": [], "cc": []}}]), "recipients[0].mail.to"),
    ("to element without email", mod("recipients.0.mail.to", [{}]), "recipients[0].mail.to[0].email"),
    ("cc email \"\"", mod("recipients.0.mail.cc", [{"email": ""}]), "recipients[0].mail.cc[0].email"),
    ("bcc email null", mod("recipients.0.mail.bcc", [{"email": None}]), "recipients[0].mail.bcc[0].email"),
    ("block replyTo {}", mod("recipients.0.mail.replyTo", {}), "recipients[0].mail.replyTo.email"),
    ("no mail", mod("mail", DEL), "mail.from.email"),
    ("mail {}", mod("mail", {}), "mail.from.email"),
    ("mail.from blank", mod("mail.from.email", "   "), "mail.from.email"),
    ("mail.replyTo {}", mod("mail.replyTo", {}), "mail.replyTo.email"),
    ("mail.mimeFrom {}", mod("mail.mimeFrom", {}), "mail.mimeFrom.email"),
    ("endPoint without url", mod(ep, {"headers": {}}), ep + ".url"),
    ("authentication without method", mod(ep, {"url": "https://h.example.com/n", "authentication": {"user": "u", "password": "p"}}),
     ep + ".authentication.method"),
    ("authentication without user", mod(ep, {"url": "https://h.example.com/n", "authentication": {"method": "BASIC", "password": "p"}}),
     ep + ".authentication.user"),
    ("authentication without password", mod(ep, {"url": "https://h.example.com/n", "authentication": {"method": "BASIC", "user": "u"}}),
     ep + ".authentication.password"),
]:
    reject(what, req, 400, M, "Missing mandatory value for " + path)

# ---------------------------------------------------------------- INVALID_VALUE
V = "INVALID_VALUE"
for what, req, path in [
    ("body.contentType text/xml", mod("body", {"contentType": "text/xml", "content": "x"}), "body.contentType"),
    ("contentEncoding", mod("subject.contentEncoding", "rot13"), "subject.contentEncoding"),
    ("contentTransferEncoding", mod("body", {"contentType": "text/plain", "content": "x", "contentTransferEncoding": "8bit"}),
     "body.contentTransferEncoding"),
    ("unknown charset", mod("alternative", {"content": "x", "charset": "X-NO-SUCH"}), "alternative.charset"),
    ("text not representable in charset", mod("subject", {"content": "price 5 \u20ac", "charset": "ISO-8859-1"}), "subject.charset"),
    ("job priority", mod("mail.priority", "URGENT"), "mail.priority"),
    ("block priority", mod("recipients.0.mail.priority", "high"), "recipients[0].mail.priority"),
    ("reserved xHeader", mod("mail.xHeaders", {"X-Ok": "1", "Subject": "x"}), "mail.xHeaders.Subject"),
    ("reserved Content-* xHeader", mod("recipients.0.mail.xHeaders", {"content-type": "x"}), "recipients[0].mail.xHeaders.content-type"),
    ("reserved notification header", mod(ep, {"url": "https://h.example.com/n", "headers": {"Host": "x"}}), ep + ".headers.Host"),
    ("authentication method", mod(ep, {"url": "https://h.example.com/n", "authentication": {"method": "DIGEST", "user": "u", "password": "p"}}),
     ep + ".authentication.method"),
    ("antivirus scope", mod("job.options.antivirus.scope", "everything"), "job.options.antivirus.scope"),
    ("spam mode", mod("job.options.spamCheck.mode", "block"), "job.options.spamCheck.mode"),
    ("spam threshold", mod("job.options.spamCheck.threshold", 1e9), "job.options.spamCheck.threshold"),
    ("password type", mod("job.options.secureDocument.password.type", "low"), "job.options.secureDocument.password.type"),
    ("flagged attachment without Secure Document Handling",
     mod("attachments", [dict(att, secureDocument=True)]), "attachments[0].secureDocument"),
]:
    reject(what, req, 400, V, "Invalid value for " + path)
reject("Idempotency-Key with a blank", base(), 400, V, "Invalid value for Idempotency-Key", headers={"Idempotency-Key": "a b"})
reject("Idempotency-Key of 256", base(), 400, V, "Invalid value for Idempotency-Key", headers={"Idempotency-Key": "k" * 256})

# ---------------------------------------------------------------- INVALID_FORMAT
F = "INVALID_FORMAT"
for what, req, path in [
    ("subject is a string", mod("subject", "x"), "subject"),
    ("subject.content is a number", mod("subject.content", 5), "subject.content"),
    ("recipients is an object", mod("recipients", {"mail": {}}), "recipients"),
    ("attachments is an object", mod("attachments", {}), "attachments"),
    ("to element is a string", mod("recipients.0.mail.to", ["a@example.org"]), "recipients[0].mail.to[0]"),
    ("boolean as a word", mod("job.features.openTracking.active", "yes"), "job.features.openTracking.active"),
    ("bad base64 attachment", mod("attachments", [dict(att, content="QQ=")]), "attachments[0].content"),
    ("base64 with a blank", mod("attachments", [dict(att, content="QQ ==")]), "attachments[0].content"),
    ("attachment contentType", mod("attachments", [dict(att, contentType="pdf")]), "attachments[0].contentType"),
    ("notification url scheme", mod(ep, {"url": "ftp://h.example.com/x"}), ep + ".url"),
    ("notification url relative", mod(ep, {"url": "/hook"}), ep + ".url"),
    ("notification header name", mod(ep, {"url": "https://h.example.com/n", "headers": {"bad name": "v"}}), ep + ".headers.bad name"),
    ("mimeFrom syntax", mod("mail.mimeFrom.email", "not an address"), "mail.mimeFrom.email"),
    ("replyTo syntax", mod("mail.replyTo.email", "foo@bar"), "mail.replyTo.email"),
    ("block replyTo syntax", mod("recipients.0.mail.replyTo.email", "x@"), "recipients[0].mail.replyTo.email"),
    ("xHeader name with colon", mod("mail.xHeaders", {"X-A:": "v"}), "mail.xHeaders.X-A:"),
    ("xHeader value with CRLF", mod("mail.xHeaders", {"X-A": "v\r\nBcc: x@example.org"}), "mail.xHeaders.X-A"),
    ("inReplyTo with LF", mod("mail.inReplyTo", "a\nb"), "mail.inReplyTo"),
]:
    reject(what, req, 400, F, "Invalid format for " + path)
ct = "Invalid format for Content-Type"
reject("Content-Type text/plain", base(), 400, F, ct, content_type="text/plain")
reject("Content-Type charset latin1", base(), 400, F, ct, content_type="application/json; charset=iso-8859-1")
reject("Content-Type missing", None, 400, F, ct, raw=json.dumps(base()).encode(), content_type=None)
accept("Content-Type with charset=UTF-8", base(), headers={"Content-Type": "Application/JSON; Charset=\"UTF-8\""})

# ---------------------------------------------------------------- INVALID_JSON_SYNTAX
J = "INVALID_JSON_SYNTAX"
for what, raw, desc in [
    ("truncated", b'{"subject": {"content": "x"}', "Unterminated object at line 1 column 29 path $.subject"),
    ("missing comma", b'{"recipients": [{"mail": {"to": [{"email": "a@example.org"} {"email": "b@example.org"}]}}]}',
     "Unterminated array at line 1 column 61 path $.recipients[0].mail.to[1]"),
    ("not an object", b'["x"]', "Expected a JSON object at line 1 column 1 path $"),
    ("empty body", b"", "End of input at line 1 column 1 path $"),
    ("duplicate member", b'{"subject": {"content": "a", "content": "b"}}', "Duplicate member name at line 1 column 39 path $.subject.content"),
    ("bad UTF-8", b'{"subject": {"content": "\xff"}}', "Invalid UTF-8 at line 1 column 26 path $.subject.content"),
    ("overlong UTF-8", b'{"subject": {"content": "\xc0\xaf"}}', "Invalid UTF-8 at line 1 column 26 path $.subject.content"),
    ("lone surrogate", b'{"subject": {"content": "\\ud800"}}', "Invalid escape sequence at line 1 column 26 path $.subject.content"),
    ("trailing data", b'{}{}', "Unexpected data after the JSON object at line 1 column 3 path $"),
    ("single quotes", b"{'a': 1}", "Expected name at line 1 column 2 path $"),
]:
    reject(what, None, 400, J, desc, raw=raw)
deep65 = b'{"x":' + b'{"a":' * 64 + b'1' + b'}' * 64 + b'}'
doc = expect_reject(c.post(raw=deep65), 400, J, None, "nesting of 65")
rejected_ids.append(doc["meta"]["jobId"])
check(doc["meta"]["state"]["description"].startswith("Nesting deeper than 64 levels at line 1 column "),
      "nesting of 65: %s" % doc["meta"]["state"]["description"][:80])
nest = base()
nest["recipients"][0]["features"] = {"templating": {"personalization": {}}}
inner = nest["recipients"][0]["features"]["templating"]["personalization"]
for _ in range(58):     # root, recipients, [0], features, templating, personalization + 58 = 64
    inner["a"] = {}
    inner = inner["a"]
accept("nesting of exactly 64", nest)

# ---------------------------------------------------------------- configuration and sender
reject("feature not enabled", mod("job.options.traceRecover.active", True), 403, "FORBIDDEN_BY_CONFIG",
       "Unsupported value for job.options.traceRecover.active")
noscan = PrivateRest(rest_stages="render,deliver")
doc = expect_reject(noscan.client(user=A["user"], password=A["password"]).post(mod("secureDocument", {"active": "true"})),
                    403, "FORBIDDEN_BY_CONFIG", "Unsupported value for secureDocument.active", "feature enabled, stage not run")
rejected_ids.append(doc["meta"]["jobId"])
noscan.stop()
for name in ("setup.exe", "SETUP.ExE", "run.bat. ", "x.tar.js"):
    reject("forbidden extension %r" % name, mod("attachments", [att, dict(att, name=name)]), 403, "FORBIDDEN_PARAMS",
           "Unsupported value for attachments[1].name")
accept("allowed extension (exe inside the name)", mod("attachments", [dict(att, name="exe.pdf")]))
reject("from syntax", mod("mail.from.email", "foo@bar"), 400, "INVALID_SENDER", "Invalid syntax for mail.from.email")
reject("from domain not registered", mod("mail.from.email", "a@example.com"), 403, "FORBIDDEN_SENDER",
       "Unsupported value for mail.from.email")
reject("from of another account's domain", mod("mail.from.email", "a@" + "example.com"), 403, "FORBIDDEN_SENDER",
       "Unsupported value for mail.from.email")
reject("forbidden sender local part", mod("mail.from.email", "NoReply@" + DOM), 403, "FORBIDDEN_SENDER",
       "Unsupported value for mail.from.email")
reject("mimeFrom in another domain", mod("mail.mimeFrom.email", "x@other.example.org"), 403, "FORBIDDEN_SENDER",
       "Unsupported value for mail.mimeFrom.email")
accept("mimeFrom in the same domain (any case)", mod("mail.mimeFrom.email", "News <news@ERR.example.com>"))
noft = new_account(settings={"features": {"tracking": False, "templates": False}}, domain="noft.example.com")
nc = Client(user=noft["user"], password=noft["password"])
for what, req, path in [("template", mod("body", {"contentType": "text/html", "template": "<p>${x}</p>"}), "body.template"),
                        ("block tracking", mod("recipients.0.features.linkTracking.active", True), "recipients[0].features.linkTracking.active"),
                        ("job tracking", mod("job.features.openTracking.active", "true"), "job.features.openTracking.active")]:
    req["mail"]["from"]["email"] = "s@noft.example.com"
    doc = expect_reject(nc.post(req), 403, "FORBIDDEN_BY_CONFIG", "Unsupported value for " + path, what)
    rejected_ids.append(doc["meta"]["jobId"])

# ---------------------------------------------------------------- limits: at (accepted) and one past
S = "LIMIT_EXCEEDED"


def addr(n, domain=DOM):
    """A valid address string of exactly n characters (display name padding)."""
    tail = " <a@%s>" % domain
    return "D" * (n - len(tail)) + tail


def blocks(n):
    return [{"mail": {"to": [{"email": "r%d@example.org" % i}]}} for i in range(n)]


def hdrs(n):
    return {"X-H%d" % i: "v" for i in range(n)}


lims = [
    ("subject.content", lambda n: mod("subject.content", "s" * n), 998, "Size"),
    ("attachments", lambda n: mod("attachments", [att] * n), 20, "Count"),
    ("recipients", lambda n: mod("recipients", blocks(n)), 100, "Count"),
    ("recipients.mail", lambda n: mod("recipients", [{"mail": {"to": [{"email": "a@example.org"}] * (n - 1),
                                                                "bcc": [{"email": "b@example.org"}]}}]), 1000, "Count"),
    ("mail.xHeaders", lambda n: mod("mail.xHeaders", hdrs(n)), 10, "Count"),
    ("recipients[0].mail.xHeaders", lambda n: mod("recipients.0.mail.xHeaders", hdrs(n)), 10, "Count"),
    ("attachments[0].name", lambda n: mod("attachments", [dict(att, name="n" * (n - 4) + ".pdf")]), 254, "Size"),
    ("attachments[0].contentType", lambda n: mod("attachments", [dict(att, contentType="application/" + "x" * (n - 12))]), 100, "Size"),
    ("attachments[0].contentId", lambda n: mod("attachments", [dict(att, contentId="c" * n)]), 100, "Size"),
    ("recipients[0].mail.to[0].email", lambda n: mod("recipients.0.mail.to.0.email", addr(n, "example.org")), 254, "Size"),
    ("recipients[0].mail.cc[0].email", lambda n: mod("recipients.0.mail.cc", [{"email": addr(n, "example.org")}]), 254, "Size"),
    ("recipients[0].mail.bcc[0].email", lambda n: mod("recipients.0.mail.bcc", [{"email": addr(n, "example.org")}]), 254, "Size"),
    ("recipients[0].mail.replyTo.email", lambda n: mod("recipients.0.mail.replyTo.email", addr(n)), 254, "Size"),
    ("mail.replyTo.email", lambda n: mod("mail.replyTo.email", addr(n)), 254, "Size"),
    ("mail.from.email", lambda n: mod("mail.from.email", addr(n)), 254, "Size"),
    ("mail.mimeFrom.email", lambda n: mod("mail.mimeFrom.email", addr(n)), 254, "Size"),
    ("recipients[0].reference", lambda n: mod("recipients.0.reference", "r" * n), 50, "Size"),
    ("job.referenceJob", lambda n: mod("job.referenceJob", "r" * n), 50, "Size"),
    ("job.costCenter", lambda n: mod("job.costCenter", "c" * n), 50, "Size"),
    ("job.campaignId", lambda n: mod("job.campaignId", "c" * n), 50, "Size"),
    (ep + ".url", lambda n: mod(ep + ".url", "https://h.example.com/" + "u" * (n - 22)), 1000, "Size"),
    (ep + ".headers", lambda n: mod(ep, {"url": "https://h.example.com/", "headers": {"X-A": "v" * (n - 3)}}), 10000, "Size"),
    (ep + ".authentication.user", lambda n: mod(ep, {"url": "https://h.example.com/", "authentication":
                                                     {"method": "BASIC", "user": "u" * n, "password": "p"}}), 100, "Size"),
    (ep + ".authentication.password", lambda n: mod(ep, {"url": "https://h.example.com/", "authentication":
                                                         {"method": "BASIC", "user": "u", "password": "p" * n}}), 100, "Size"),
    ("mail.inReplyTo", lambda n: mod("mail.inReplyTo", "i" * n), 998, "Size"),
    ("recipients[0].mail.inReplyTo", lambda n: mod("recipients.0.mail.inReplyTo", "i" * n), 998, "Size"),
    ("mail.listUnsubscribe", lambda n: mod("mail.listUnsubscribe", "l" * n), 998, "Size"),
    ("recipients[0].mail.listUnsubscribe", lambda n: mod("recipients.0.mail.listUnsubscribe", "l" * n), 998, "Size"),
    ("mail.xHeaders.X-V", lambda n: mod("mail.xHeaders", {"X-V": "\u00fc" * n}), 998, "Size"),
]
for path, make, n, kind in lims:
    accept("%s at %d" % (path, n), make(n))
    reject("%s at %d" % (path, n + 1), make(n + 1), 400, S, "%s limit exceeded for %s" % (kind, path))
accept("Idempotency-Key of 255", base(), headers={"Idempotency-Key": "k" * 255})
# a recipient address past 254 characters is refused whatever its syntax (§6.3)
reject("overlong invalid recipient", mod("recipients.0.mail.to.0.email", "x" * 255), 400, S,
       "Size limit exceeded for recipients[0].mail.to[0].email")

# ---------------------------------------------------------------- leniencies (§4.1)
doc = accept("unknown keys, null and \"\" as absent, booleans as strings, trimmed addresses", {
    "subject": {"content": "x", "features": {"whatever": 1}, "template": ""},
    "body": None, "alternative": "",
    "recipients": [{"mail": {"to": [{"email": "  a@example.org\t", "name": "ignored"}], "priority": None},
                    "features": {"openTracking": {"active": "false"}}, "active ": True, "extra": [1, 2]}],
    "mail": {"from": {"email": " s@" + DOM + " "}, "unknown": {"a": 1}},
    "job": {"options": {"antivirus": {"active": False}, "unknownOption": {"active": True}}},
    "totallyUnknown": {"nested": [{"x": None}]},
})
eq(doc["content"]["recipients"][0]["mail"]["to"][0]["email"], "a@example.org", "address trimmed in the answer")

# ---------------------------------------------------------------- 500: an installation without its master key
nokey = PrivateRest(master_key_file="")
got = nokey.client(user=A["user"], password=A["password"]).post(
    mod(ep, {"url": "https://h.example.com/n", "authentication": {"method": "BASIC", "user": "u", "password": "secret-pw"}}))
doc = expect_reject(got, 500, "INTERNAL_ERROR", "Internal error", "endpoint password that cannot be encrypted at rest")
rejected_ids.append(doc["meta"]["jobId"])
check("secret-pw" not in nokey.prog.log_text(), "the endpoint password is not logged")
nokey.stop()

# ---------------------------------------------------------------- nothing created by rejections
jobs = jobs_in(RENDER_Q, 1.0, A["id"])
eq(sorted(j for j in jobs if j in set(accepted_ids)), sorted(accepted_ids), "every accepted request published its job")
eq([j for j in jobs if j not in set(accepted_ids)], [], "no job without a 200")
eq(sum(n for _, n in jobs.values()), len(accepted_ids), "each exactly once")
rows = sql("SELECT job_id FROM job WHERE account_id=%s", A["id"])
eq(sorted(r[0] for r in rows), sorted(accepted_ids), "a job row for each accepted request and none for %d rejections" % len(rejected_ids))
done()
