"""txmail-bounce, end to end: replies. A human reply to the VERP address of a
delivered message is virus-scanned and forwarded to the account's
replyForward at the sink: envelope sender postmaster@<bounce domain>,
envelope recipient the forwarding address, From kept, our VERP address in
To replaced by the original sender, X-Txmail-Forwarded-For: <rid>, the body
byte for byte; no event. A reply carrying EICAR (base64 attachment) is not
forwarded: POST_PROCESS/POST_DELIVERY/REPLY/VIRUS_DETECTED naming the
signature for the recipient id, and a notice to the account's adminEmail
at the sink naming the correspondent, the signature and the recipient id.
A reply to an envelope-rewrite address of an account without replyForward
goes to the mapping's original sender. txmailctl refuses a replyForward
that is not an address."""
import email
import email.policy

from txtest import *
from bouncetest import *

fwd = uniq("replies") + "@example.com"
admin = uniq("it") + "@example.com"
a = tenant(settings={"replyForward": fwd, "adminEmail": admin})
to = uniq("ann") + "@example.net"
rid = send(a, to)
verp, mid, _ = delivered(rid, to)

body = b"Thanks, but the parcel never arrived.\r\n\r\n> Thank you for your order.\r\n-- \r\nAnn\r\n"
msg = reply(to, verp, mid, body=body)
inbound = smtp([verp], msg, mail_from=to)
meta, raw = wait_until(lambda: forwards_to(fwd), 60, "the reply forwarded to replyForward")[0]
eq((meta["mailFrom"], meta["rcptTo"]), ("postmaster@" + a["bounce"], [fwd]), "envelope: postmaster -> replyForward")
head, _, rest_ = raw.partition(b"\r\n\r\n")
eq(rest_.rstrip(b"\r\n"), body.rstrip(b"\r\n"), "the body byte for byte")
m = email.message_from_bytes(raw, policy=email.policy.compat32)
eq(m["From"], "Ann Example <%s>" % to, "From kept: the correspondent")
eq(m["To"], "Shop <%s>" % a["sender"], "To: the original sender instead of the VERP address")
eq(m["X-Txmail-Forwarded-For"], rid, "trace header names the recipient id")
eq(m["In-Reply-To"], mid, "the rest of the header as it came")
check(verp.encode().lower() not in raw.lower(), "our VERP address is gone from the forward")
line = [l for l in log_lines(inbound + ": rid=") if "status=forwarded" in l][0]
check(("rid=%s, kind=reply" % rid) in line and fwd in line, "log line: " + line)
time.sleep(1)
eq(sorted(e["type"] for e in events(rid)), ["DELIVERED", "PROCESSED", "STARTED"], "a clean reply raises no event")

# an infected reply: deleted, an event, a notice to adminEmail
bad = reply(to, verp, mid, body=b"see the invoice\r\n", attachment=EICAR)
inbound2 = smtp([verp], bad, mail_from=to)
e = wait_event(rid, "REPLY")[0]
eq((e["phase"], e["state"], e["type"], e["subType"]), ("POST_PROCESS", "POST_DELIVERY", "REPLY", "VIRUS_DETECTED"),
   "REPLY/VIRUS_DETECTED")
sig = re.match(r"INFECTED: (\S+) \(reply from (\S+) deleted\)", e["description"] or "")
check(sig is not None and sig.group(2) == to, "description names the signature and the sender: %s" % e["description"])
eq(e["notification"]["meta"]["mail"]["id"], rid, "for the recipient id")
check(any(x["meta"]["event"]["type"] == "REPLY" for x in message_events(a, rid)["events"]),
      "GET /messages shows it (valid against docs/openapi.json)")
nm, nraw = wait_until(lambda: forwards_to(admin), 60, "the notice to adminEmail")[0]
for what in (to, sig.group(1), rid):
    check(what.encode() in nraw, "the notice names %s" % what)
eq(nm["mailFrom"], "postmaster@" + a["bounce"], "the notice's envelope sender")
eq(len(forwards_to(fwd)), 1, "the infected reply was not forwarded")
eq(outcome_of(inbound2), ["infected"], "logged as infected")
eq(supp(a["id"], to), None, "a reply suppresses nothing")

# a reply to an envelope-rewrite address, no replyForward: to the mapping's original sender
b = tenant()
news = "news-%s@example.com" % b["name"].lower()
rewrite = "bounce-%s@rewrite.example.com" % b["name"].lower()
sql("INSERT INTO envelope_rewrite (account_id, from_addr, rewrite_from) VALUES (%s, %s, %s)", b["id"], news, rewrite)
time.sleep(2.5)  # the listener keeps its answers about addresses for a moment
inbound3 = smtp([rewrite], reply("carl@example.org", rewrite, "<none@example.org>"),
                mail_from="carl@example.org")
m3, raw3 = wait_until(lambda: forwards_to(news), 60, "the reply forwarded to the rewrite's original sender")[0]
eq(email.message_from_bytes(raw3, policy=email.policy.compat32)["To"], news,
   "To: the original sender of the rewrite address")
eq(m3["mailFrom"], "postmaster@rewrite.example.com", "envelope sender at the domain the reply came to")

# replyForward must be an address
rc, _, err = ctl("account", "set", a["name"], "--settings", '{"replyForward": "not an address"}', check_rc=False)
check(rc != 0 and "replyForward" in err, "txmailctl refuses a replyForward that is no address: %s" % err.strip())
rc, _, err = ctl("account", "set", a["name"], "--settings", '{"adminEmail": 7}', check_rc=False)
check(rc != 0 and "adminEmail" in err, "txmailctl refuses an adminEmail that is no address")
ctl("account", "set", a["name"], "--settings", '{"adminEmail": null}')
done()
