"""Trace & Recover, the preview (contract §16.2, txmail addition): GET
/email/v2/messages/{id} of a kept message carries traceRecover
{storedUntil, preview}: the first 1,000 characters (code points, never a
cut inside a UTF-8 sequence) of the text/plain part decoded, else of the
HTML part's text without tags; null for a message that is not kept or whose
copy has expired (stored_until in the past); another account's id answers
404 as before."""
from txtest import *
from txevents import iso, ms_of
from tracetest import *

need_stack()
acct = tr_account()
other = tr_account(selector="s2")
stack("publish-dns")
cl, ocl = client(acct), client(other)

# 998 ASCII characters, then 3-byte and 4-byte characters across the cut at 1,000
body = "x" * 998 + "€😀" + "é" * 50 + " tail"
a = uniq("pv") + "@example.net"
ans = send(cl, acct, [a], body=body)
r = rids(ans)[0]
sink_wait(a)
stored(r)
st, _, data, doc = cl.request("GET", msg_path(r))
eq(st, 200, "message answer")
tr = doc["traceRecover"]
until = ms_of(sql("SELECT stored_until FROM trace_store WHERE rid=%s", r)[0][0])
eq(tr["storedUntil"], iso(until), "storedUntil = the row's stored_until")
eq(tr["preview"], body[:1000], "the first 1,000 characters, cut after the emoji (a 4-byte sequence)")
eq(len(tr["preview"]), 1000, "1,000 characters")
eq(len(tr["preview"].encode()), 998 + 3 + 4, "bytes: never a partial sequence")

# quoted-printable and base64 bodies are decoded (the sender's body with non-ASCII goes out encoded)
short = "Grüße aus Köln – " + "ü" * 20
s = uniq("pv") + "@example.net"
r_s = rids(send(cl, acct, [s], body=short))[0]
sink_wait(s)
stored(r_s)
eq(cl.request("GET", msg_path(r_s))[3]["traceRecover"]["preview"], short, "a short body whole, decoded")

# HTML only: the text without tags
h = uniq("pv") + "@example.net"
html = "<html><body><p>Hello <b>there</b> &amp; welcome</p><div>line two</div></body></html>"
r_h = rids(send(cl, acct, [h], body=html, content_type="text/html"))[0]
sink_wait(h)
stored(r_h)
pv = cl.request("GET", msg_path(r_h))[3]["traceRecover"]["preview"]
check("<" not in pv and ">" not in pv, "no tags left: %r" % pv)
check("Hello there & welcome" in pv and "line two" in pv, "the HTML text: %r" % pv)

# not kept: null
n = uniq("pv") + "@example.net"
r_n = rids(send(cl, acct, [n], tr=False))[0]
sink_wait(n)
wait_until(lambda: sql("SELECT 1 FROM message WHERE rid=%s AND final_at IS NOT NULL", r_n), 60, "final")
eq(cl.request("GET", msg_path(r_n))[3]["traceRecover"], None, "a message that is not kept: null")

# another account: 404, as any foreign id
expect_error(ocl.request("GET", msg_path(r)), 404, "NOT_FOUND", "Unknown recipient id", "another account's id")

# expired: no preview (the row stays until retention removes it)
sql("UPDATE trace_store SET stored_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE rid=%s", r)
st, _, _, doc = cl.request("GET", msg_path(r))
eq((st, doc["traceRecover"]), (200, None), "expired copy: traceRecover null")
done()
