"""txmail-render: every row of contract §8.3 (MIME structure), transfer
encodings and charsets, RFC 2047 subjects (ASCII, UTF-8, long -> folded),
RFC 2231 file names, inline contentId parts in multipart/related, priority
mapping, In-Reply-To, List-Unsubscribe from the request (mailto / https /
ignored values), xHeaders, To/Cc composition with dropped addresses, CRLF
and no line over 998 everywhere. Parsed with Python's email package."""
from txtest import *
from rendertest import *

cap = Capture("mime")
acct = demo_account()
B64 = base64.b64encode


def req(**kw):
    r = {"subject": {"content": "hello"}, "mail": {"from": {"email": "Sender <sender@example.com>"}},
         "recipients": [{"mail": {"to": [{"email": "To <to@example.org>"}]}}]}
    r.update(kw)
    return r


cases = {}


def submit_case(name, r, drops=None):
    job = new_job()
    submit(acct, job, rest_data(acct, r, job, drops=drops))
    cases[name] = job


def got(name, n=1):
    msgs = cap.wait_messages(cases[name], n)
    msgs.sort(key=lambda x: x[0]["rid"])
    for e, raw in msgs:
        check_wire(raw, name)
    return msgs


html = {"contentType": "text/html", "content": "<html><body><p>Hi</p><img src=\"cid:logo\"></body></html>"}
plain_body = {"contentType": "text/plain", "content": "plain body\nsecond line\n"}
alt = {"content": "the alternative"}
pdf = {"name": "doc.pdf", "contentType": "application/pdf", "content": B64(b"%PDF-1.4 test").decode()}
logo = {"name": "logo.png", "contentType": "image/png", "contentId": "logo", "content": B64(b"\x89PNG..").decode()}

submit_case("plain+alt", req(body=plain_body, alternative=alt))
submit_case("html", req(body=html))
submit_case("html+alt", req(body=html, alternative=alt))
submit_case("alt", req(alternative=alt))
submit_case("neither", req())
submit_case("related", req(body=html, alternative=alt, attachments=[logo, pdf]))
submit_case("cid-no-html", req(body=plain_body, attachments=[logo]))
submit_case("utf8-body", req(body={"contentType": "text/plain", "content": "Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \U0001F600\n"}))
submit_case("latin1-body", req(body={"contentType": "text/plain", "content": "Gr\u00fc\u00dfe", "charset": "ISO-8859-1"}))
submit_case("utf16-body", req(body={"contentType": "text/plain", "content": "Gr\u00fc\u00dfe\nzwei", "charset": "UTF-16"}))
submit_case("long-line", req(body={"contentType": "text/html", "content": "<p>" + "x" * 3000 + "</p>"}))
submit_case("subj-utf8", req(subject={"content": "Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \U0001F600"}))
long_ascii = " ".join("word%03d" % i for i in range(40))
submit_case("subj-long", req(subject={"content": long_ascii}))
long_utf8 = "\u00c4rger " * 60
submit_case("subj-long-utf8", req(subject={"content": long_utf8}))
submit_case("subj-q", req(subject={"content": "plain words", "contentTransferEncoding": "quoted-printable"}))
submit_case("filename", req(body=plain_body, attachments=[dict(pdf, name="R\u00e9sum\u00e9 2024 \u2013 final.pdf")]))
submit_case("headers", req(recipients=[{"mail": {
    "to": [{"email": "\"Doe, John\" <john@example.org>"}, {"email": "J\u00fcrgen <juergen@example.org>"},
           {"email": "foo@bar"}, {"email": "gone@example.org"}],
    "cc": [{"email": "cc@example.org"}],
    "bcc": [{"email": "hidden@example.org"}],
    "priority": "LOW",
    "inReplyTo": "<already@bracketed.example>",
    "listUnsubscribe": "unsubscribe@example.com, https://u.example.com/x?a=1&b=2, custom_value, mailto:list@example.com?subject=stop",
    "xHeaders": {"X-Umlaut": "K\u00f6ln", "Campaign-Code": "c-42", "X-Long": "v" * 900}}}]),
    drops={(0, "to", 3): ("PREVIOUSLY_BOUNCED", 'ts="2025-01-01T00:00:00.000Z", reason="550 user unknown"')})
submit_case("bcc-only", req(recipients=[{"mail": {"bcc": [{"email": "b1@example.org"}, {"email": "b2@example.org"}],
                                                    "priority": "NORMAL"}}]))

# §8.3 rows
m = parse(got("plain+alt")[0][1])
eq(m.get_content_type(), "text/plain", "body text/plain: text/plain, the alternative left out")
eq(m.get_content().replace("\r\n", "\n"), "plain body\nsecond line\n", "text/plain content (CRLF on the wire)")
check(b"plain body\r\nsecond line\r\n" in got("plain+alt")[0][1], "line ends are CRLF on the wire")
eq(m["Content-Transfer-Encoding"], "7bit", "US-ASCII text with short lines: 7bit")
check(b"the alternative" not in got("plain+alt")[0][1], "the alternative is not in the message")

m = parse(got("html")[0][1])
eq(m.get_content_type(), "text/html", "body text/html, no alternative: text/html")
eq(m.get_content(), html["content"], "HTML content")

m = parse(got("html+alt")[0][1])
eq(m.get_content_type(), "multipart/alternative", "html + alternative: multipart/alternative")
eq([p.get_content_type() for p in m.iter_parts()], ["text/plain", "text/html"], "text/plain first")
eq([p.get_content() for p in m.iter_parts()], ["the alternative", html["content"]], "both texts")

m = parse(got("alt")[0][1])
eq((m.get_content_type(), m.get_content()), ("text/plain", "the alternative"), "no body, alternative: text/plain")

raw = got("neither")[0][1]
m = parse(raw)
eq((m.get_content_type(), m.get_content()), ("text/plain", ""), "neither: empty text/plain")

m = parse(got("related")[0][1])
eq(m.get_content_type(), "multipart/mixed", "attachments: multipart/mixed outermost")
top = list(m.iter_parts())
eq([p.get_content_type() for p in top], ["multipart/alternative", "application/pdf"], "body first, then the attachment")
altp = list(top[0].iter_parts())
eq([p.get_content_type() for p in altp], ["text/plain", "multipart/related"], "the HTML side is multipart/related")
rel = list(altp[1].iter_parts())
eq([p.get_content_type() for p in rel], ["text/html", "image/png"], "HTML, then the inline part")
eq(altp[1].get_param("type"), "text/html", "multipart/related type parameter")
eq(rel[1]["Content-ID"], "<logo>", "Content-ID: <contentId>")
eq(rel[1].get_content_disposition(), "inline", "inline part disposition")
eq(rel[1].get_content(), b"\x89PNG..", "inline part content")
eq(top[1].get_content_disposition(), "attachment", "other attachment: Content-Disposition attachment")
eq(top[1].get_content(), b"%PDF-1.4 test", "attachment content")

m = parse(got("cid-no-html")[0][1])
eq([p.get_content_type() for p in m.iter_parts()], ["text/plain", "image/png"], "contentId without HTML: mixed")
eq(list(m.iter_parts())[1].get_content_disposition(), "attachment", "then it is an attachment")

# encodings and charsets
raw = got("utf8-body")[0][1]
m = parse(raw)
eq(m["Content-Transfer-Encoding"], "quoted-printable", "non-ASCII text without a requested encoding: QP")
eq(m.get_content().replace("\r\n", "\n"), "Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \U0001F600\n", "UTF-8 text round trip")
check(all(ord(c) < 128 for c in raw.decode("latin-1")), "the message is 7-bit clean")
m = parse(got("latin1-body")[0][1])
eq(m.get_content_charset(), "iso-8859-1", "charset parameter as requested")
eq(m.get_payload(decode=True), "Gr\u00fc\u00dfe".encode("latin-1"), "text written in ISO-8859-1")
m = parse(got("utf16-body")[0][1])
eq((m.get_content_charset(), m["Content-Transfer-Encoding"]), ("utf-16", "quoted-printable"),
   "UTF-16 text: quoted-printable (octet for octet)")
eq(m.get_payload(decode=True).decode("utf-16").replace("\r\n", "\n"), "Gr\u00fc\u00dfe\nzwei", "UTF-16 text round trip")
raw = got("long-line")[0][1]
m = parse(raw)
eq(m["Content-Transfer-Encoding"], "quoted-printable", "a 3000-octet line: QP")
check(max(len(l) for l in body_of(raw).split(b"\r\n")) <= 76, "QP lines within 76")
eq(m.get_content(), "<p>" + "x" * 3000 + "</p>", "long line round trip")

# subjects
raw = got("subj-utf8")[0][1]
eq(str(parse(raw)["Subject"]), "Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \U0001F600", "UTF-8 subject")
check(b"Subject: =?UTF-8?Q?" in raw, "UTF-8 subject Q-encoded by default")
raw = got("subj-long")[0][1]
eq(str(parse(raw)["Subject"]), long_ascii, "long ASCII subject")
subj_lines = re.search(rb"\r\nSubject:.*?\r\n(?=[^ \t])", raw, re.S).group(0).split(b"\r\n")[1:-1]
check(len(subj_lines) > 1 and all(len(l) <= 78 for l in subj_lines), "long subject folded at 78")
check(b"=?" not in b"".join(subj_lines), "ASCII subject stays plain text")
raw = got("subj-long-utf8")[0][1]
eq(str(parse(raw)["Subject"]), long_utf8, "long UTF-8 subject")
subj_lines = re.search(rb"\r\nSubject:.*?\r\n(?=[^ \t])", raw, re.S).group(0).split(b"\r\n")[1:-1]
check(len(subj_lines) > 1 and all(len(l) <= 78 for l in subj_lines), "long UTF-8 subject folded into words")
raw = got("subj-q")[0][1]
check(b"Subject: =?UTF-8?Q?plain_words?=" in raw, "quoted-printable asked: Q encoded-word")

m = parse(got("filename")[0][1])
att = list(m.iter_parts())[1]
eq(att.get_filename(), "R\u00e9sum\u00e9 2024 \u2013 final.pdf", "non-ASCII file name decoded")
check("filename*" in att["Content-Disposition"].__str__() or b"filename*" in got("filename")[0][1],
      "RFC 2231 parameter on the wire")

# headers of a block
msgs = got("headers", 4)
job = cases["headers"]
rcpts = sorted(e["data"]["rcpt"] for e, _ in msgs)
eq(rcpts, ["cc@example.org", "hidden@example.org", "john@example.org", "juergen@example.org"],
   "a copy per address except the dropped ones (invalid syntax, previously bounced)")
eq(sorted(e["rid"] for e, _ in msgs), [rid(job, 0, 0), rid(job, 0, 1), rid(job, 0, 4), rid(job, 0, 5)],
   "recipient ids: to, to, cc, bcc")
raw = cap.messages(job)[0][1]
m = parse(raw)
eq([a.addr_spec for a in m["To"].addresses], ["john@example.org", "juergen@example.org", "gone@example.org"],
   "To: every to address but the one with invalid syntax (a suppressed one stays visible)")
eq([a.display_name for a in m["To"].addresses], ["Doe, John", "J\u00fcrgen", ""], "display names")
check(b'"Doe, John" <john@example.org>' in raw, "a display name with a comma is quoted")
check(re.search(rb"=\?UTF-8\?Q\?J=C3=BCrgen\?=(\r\n)? <juergen@example.org>", raw) is not None,
      "a non-ASCII display name is encoded")
eq(str(m["Cc"]), "cc@example.org", "Cc:")
check(b"hidden@example.org" not in header_block(raw) and m["Bcc"] is None, "Bcc never in the header")
eq((m["X-Priority"], m["Importance"]), ("5", "low"), "LOW: X-Priority 5, Importance low")
eq(str(m["In-Reply-To"]), "<already@bracketed.example>", "In-Reply-To kept as given")
eq(m["List-Unsubscribe"], "<mailto:unsubscribe@example.com>, <https://u.example.com/x?a=1&b=2>, "
   "<mailto:list@example.com?subject=stop>", "List-Unsubscribe: address -> mailto, URLs kept, others ignored")
eq(m["List-Unsubscribe-Post"], None, "no List-Unsubscribe-Post without txmail's own URL")
eq(str(m["X-Umlaut"]), "K\u00f6ln", "xHeader with umlaut")
check(b"X-Umlaut: =?UTF-8?Q?K=C3=B6ln?=" in raw, "xHeader RFC 2047-encoded")
eq(str(m["Campaign-Code"]), "c-42", "an xHeader need not start with X-")
eq(str(m["X-Long"]), "v" * 900, "a 900-character xHeader value")
check(dkim_verify(raw), "DKIM verifies with every header kind")

raw = got("bcc-only", 2)[0][1]
m = parse(raw)
eq(m["To"], None, "a block without to addresses has no To:")
eq((m["X-Priority"], m["Importance"]), ("3", "normal"), "NORMAL: X-Priority 3, Importance normal")
eq(parse(got("html")[0][1])["X-Priority"], None, "no priority: no X-Priority")

# drop events of the intake: the previously bounced and the invalid address
evs = cap.wait_events(job, lambda e: len([x for x in e if x.get("phase") == "PRE_PROCESS"]) == 2,
                      what="two PRE_PROCESS drop events")
drops = sorted((e["rid"], e["subType"]) for e in evs if e.get("phase") == "PRE_PROCESS")
eq(drops, [(rid(job, 0, 2), "INVALID_ADDRESS"), (rid(job, 0, 3), "PREVIOUSLY_BOUNCED")], "drop events")
pb = [e for e in evs if e.get("subType") == "PREVIOUSLY_BOUNCED"][0]
eq(pb["description"], 'ts="2025-01-01T00:00:00.000Z", reason="550 user unknown"', "drop description as given")
eq(pb["tag"], tag(rid(job, 0, 3), "PRE_PROCESS", "FINISHED", "DROPPED", "PREVIOUSLY_BOUNCED"), "drop tag")
check("x" not in pb, "no suppressTouch when the data does not name the entry")
inv = [e for e in evs if e.get("subType") == "INVALID_ADDRESS"][0]
eq(inv["mail"]["email"], "foo@bar", "drop event: the address as submitted")
eq(len([e for e in evs if e.get("rid") in (rid(job, 0, 2), rid(job, 0, 3)) and e.get("phase") == "PROCESS"]), 0,
   "no PROCESS event for dropped addresses")
cap.delete()
done()
