"""Templates end to end (contract §9): REST -> render -> deliver -> sink.
The template sample with several personalised blocks: each message at the
sink carries its own values in subject, HTML and text part; directives and
built-ins; a missing variable drops only its block (PROCESSING_FAILED
naming the variable and position); a syntax error is refused at intake
(400 INVALID_FORMAT with line and column); autoEscapeHtml escapes the HTML
body and ?no_esc opts out."""
import copy
import email
import email.policy

from txtest import *
import txrest

acct = new_account(settings={"features": {"templates": True, "tracking": True}})
esc_acct = new_account(settings={"features": {"templates": True, "autoEscapeHtml": True}})
stack("publish-dns")


def client(a):
    return txrest.Client(user=a["user"], password=a["password"])


def rcpt(tag):
    return "%s-%s@example.net" % (tag, uniq(""))


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def parts(m):
    """text/plain and text/html contents of a message."""
    out = {}
    for p in m.walk():
        if p.get_content_type() in ("text/plain", "text/html"):
            out[p.get_content_type()] = p.get_content().replace("\r\n", "\n")  # CRLF on the wire
    return out


def events_of(job, typ=None):
    q = "SELECT rid, type, subtype, description FROM event WHERE job_id=%s" + (" AND type=%s" if typ else "")
    return sql(q, job, typ) if typ else sql(q, job)


# ---- the template sample, three personalised blocks
req = sample("template-jobrequest.json")
req["mail"]["from"]["email"] = "Sender <news@%s>" % acct["domain"]
block0 = req["recipients"][0]
names = ["Ignaz", "Zo\u00eb \u00c5str\u00f6m", "Anna & Bob"]
addrs = [rcpt("tpl%d" % i) for i in range(3)]
req["recipients"] = []
for n, a in zip(names, addrs):
    b = copy.deepcopy(block0)
    b["mail"]["to"] = [{"email": " %s<%s>" % (n.split()[0], a)}]
    b["features"]["templating"]["personalization"] = {"name": n}
    req["recipients"].append(b)
st, _, body, doc = client(acct).post(req)
eq(st, 200, "template job accepted")
eq(doc["meta"]["state"]["subType"], "FULL", "all addresses accepted")
job = doc["meta"]["jobId"]
for n, a in zip(names, addrs):
    meta, raw = sink_wait(a, 1, 60)[0]
    m = parse(raw)
    want = "Send Job - POST - template basic " + n
    eq(str(m["Subject"]), want, "subject rendered for %s" % n)
    p = parts(m)
    eq(p.get("text/plain"), want, "text part rendered for %s" % n)
    eq(p.get("text/html"), want, "HTML part rendered for %s (no escaping without ?html)" % n)
    eq(m["List-Unsubscribe"], None, "listUnsubscribe \"\": no header")
    check(dkim_verify(raw), "DKIM verifies (%s)" % n)

# ---- directives, built-ins, defaults, lists; one block misses a variable
tpl_html = ("<html><body>\n"
            "<p>Dear ${user.first?cap_first} ${(user.last!\"\")?upper_case},</p>\n"
            "<#if vip>\n"
            "<p>VIP ${level!\"gold\"}</p>\n"
            "<#else>\n"
            "<p>regular</p>\n"
            "</#if>\n"
            "<ul>\n"
            "<#list orders as o>\n"
            "<li>${o.id}: ${o.total} <a href=\"https://shop.example.com/o?id=${o.id?url}\">view</a></li>\n"
            "</#list>\n"
            "</ul>\n"
            "<#-- never shown -->\n"
            "<p>${note?html}</p>\n"
            "</body></html>\n")
tpl_subj = "Order update for ${user.first}"
tpl_text = "Hi ${user.first},\n<#list orders as o>\n- ${o.id}\n</#list>\nbye"
good = [rcpt("dir0"), rcpt("dir2")]
bad = rcpt("dir1")
req = {
    "subject": {"template": tpl_subj},
    "body": {"contentType": "text/html", "template": tpl_html},
    "alternative": {"template": tpl_text},
    "recipients": [
        {"mail": {"to": [{"email": good[0]}]}, "features": {"templating": {"personalization": {
            "user": {"first": "\u00e9mile", "last": "zola"}, "vip": True, "orders": [
                {"id": "A 1", "total": 9.5}, {"id": "B/2", "total": 100}], "note": "<5 & 6>"}}}},
        {"mail": {"to": [{"email": bad}]}, "features": {"templating": {"personalization": {
            "orders": []}}}},
        {"mail": {"to": [{"email": good[1]}]}, "features": {"templating": {"personalization": {
            "user": {"first": "ann"}, "vip": False, "orders": [], "note": "n"}}}},
    ],
    "mail": {"from": {"email": "news@%s" % acct["domain"]}},
}
st, _, _, doc = client(acct).post(req)
eq(st, 200, "directive job accepted")
job2 = doc["meta"]["jobId"]
m0 = parse(sink_wait(good[0], 1, 60)[0][1])
eq(str(m0["Subject"]), "Order update for \u00e9mile", "subject of block 0")
eq(parts(m0)["text/html"],
   "<html><body>\n<p>Dear \u00c9mile ZOLA,</p>\n<p>VIP gold</p>\n<ul>\n"
   "<li>A 1: 9.5 <a href=\"https://shop.example.com/o?id=A%201\">view</a></li>\n"
   "<li>B/2: 100 <a href=\"https://shop.example.com/o?id=B%2F2\">view</a></li>\n"
   "</ul>\n<p>&lt;5 &amp; 6&gt;</p>\n</body></html>\n",
   "HTML of block 0: if/else, list, built-ins, defaults, comment, directive lines stripped")
eq(parts(m0)["text/plain"], "Hi \u00e9mile,\n- A 1\n- B/2\nbye", "text of block 0")
m2 = parse(sink_wait(good[1], 1, 60)[0][1])
eq(parts(m2)["text/html"],
   "<html><body>\n<p>Dear Ann ,</p>\n<p>regular</p>\n<ul>\n</ul>\n<p>n</p>\n</body></html>\n",
   "HTML of block 2: else branch, empty list, missing member defaulted")
fails = wait_until(lambda: events_of(job2, "DROPPED"), 30, "the failed block's event")
eq(len(fails), 1, "only the block with the missing variable is dropped")
eq(fails[0][:3], (job2 + "#00000001#00000001", "DROPPED", "PROCESSING_FAILED"), "PROCESSING_FAILED for its address")
eq(fails[0][3], "Missing template variable user in subject.template at line 1 column 20",
   "the description names the variable, the part and the position")
time.sleep(1)
eq(sink_for(bad), [], "nothing sent to the dropped block")

# ---- size limits: one part over 1 MB, or the whole message over 1 MB, drops only that block
big = "x" * 600000
small_ok, part_big, msg_big = rcpt("size0"), rcpt("size1"), rcpt("size2")
req = {
    "subject": {"template": "size ${n}"},
    "body": {"contentType": "text/html", "template": "<p>${a}${a}</p>"},
    "alternative": {"template": "${b}"},
    "recipients": [
        {"mail": {"to": [{"email": small_ok}]}, "features": {"templating": {"personalization": {"n": 0, "a": "ok", "b": "ok"}}}},
        {"mail": {"to": [{"email": part_big}]}, "features": {"templating": {"personalization": {"n": 1, "a": big, "b": "ok"}}}},
        {"mail": {"to": [{"email": msg_big}]}, "features": {"templating": {"personalization": {"n": 2, "a": "y" * 300000, "b": big}}}},
    ],
    "mail": {"from": {"email": "news@%s" % acct["domain"]}},
}
st, _, _, doc = client(acct).post(req)
eq(st, 200, "size job accepted")
job3 = doc["meta"]["jobId"]
sink_wait(small_ok, 1, 60)
fails = wait_until(lambda: (lambda f: f if len(f) == 2 else None)(events_of(job3, "DROPPED")), 30, "two size drops")
desc = {r[0]: r[3] for r in fails}
eq(desc.get(job3 + "#00000001#00000001"), "Rendered body.template exceeds 1048576 bytes", "a part over 1 MB")
eq(desc.get(job3 + "#00000002#00000002"), "Rendered message exceeds 1048576 bytes", "a message over 1 MB")
eq(sink_for(part_big) + sink_for(msg_big), [], "nothing sent for the oversized blocks")

# ---- syntax errors are refused at intake with their position
bad_req = copy.deepcopy(req)
bad_req["body"]["template"] = "<html>\n<body>\n<p><#if vip>VIP</p>\n</body>"
st, _, _, doc = client(acct).post(bad_req)
eq((st, doc["meta"]["state"]["subType"], doc["meta"]["state"]["description"]),
   (400, "INVALID_FORMAT", "Invalid format for body.template: unclosed <#if> at line 3 column 4"),
   "unclosed <#if> refused at intake")
bad_req = copy.deepcopy(req)
bad_req["subject"]["template"] = "Hello ${name?trim}"
st, _, _, doc = client(acct).post(bad_req)
eq((st, doc["meta"]["state"]["description"]),
   (400, "Invalid format for subject.template: unsupported built-in ?trim at line 1 column 13"),
   "unsupported built-in refused at intake")
bad_req = copy.deepcopy(req)
bad_req["alternative"]["template"] = "<#if a>" * 33 + "</#if>" * 33
st, _, _, doc = client(acct).post(bad_req)
eq((st, doc["meta"]["state"]["description"]),
   (400, "Invalid format for alternative.template: nesting deeper than 32 at line 1 column 225"),
   "nesting limit refused at intake")

# ---- autoEscapeHtml: every interpolation of the HTML body escaped, ?no_esc opts out
ae = rcpt("esc")
req = {
    "subject": {"template": "Re: ${v}"},
    "body": {"contentType": "text/html",
             "template": "<p>${v}|${v?html}|${v?no_esc}|${u?url}</p>"},
    "alternative": {"template": "${v}"},
    "recipients": [{"mail": {"to": [{"email": ae}]},
                    "features": {"templating": {"personalization": {"v": "<b>&'", "u": "a b"}}}}],
    "mail": {"from": {"email": "news@%s" % esc_acct["domain"]}},
}
st, _, _, doc = client(esc_acct).post(req)
eq(st, 200, "autoEscape job accepted")
m = parse(sink_wait(ae, 1, 60)[0][1])
eq(parts(m)["text/html"], "<p>&lt;b&gt;&amp;&#39;|&lt;b&gt;&amp;&#39;|<b>&'|a%20b</p>",
   "HTML body escaped once, ?html not twice, ?no_esc raw")
eq(parts(m)["text/plain"], "<b>&'", "the text part is never escaped")
eq(str(m["Subject"]), "Re: <b>&'", "the subject is never escaped")
done()
