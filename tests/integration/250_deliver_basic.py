"""txmail-deliver: a message reaches the sink byte-identical over TLS
(dot-stuffing, 8BITMIME, SMTPUTF8, SIZE, null sender), the DELIVERED event
has the contract's shape and tag, delivery_record has the row, the log line
is keyed by recipient id; archive Bcc rides in the same transaction without
events; a relay host wins over the MX."""
import re

from dlvtest import *
from txtest import *

ev = Events()

# --- 1. delivered: byte-identical, dot-stuffing, TLS ------------------------
rcpt = uniq("basic") + "@example.net"
body = (b".starts with a dot\r\n..two dots\r\n.\r\n"
        + b"x" * 998 + b"\r\n" + b"line\r\n" * 30000 + b". \r\nend without newline")
raw = raw_message(rcpt, body=body)
rid, _ = send(rcpt, raw=raw)
got = sink_wait(rcpt, 1, 30)
meta, data = got[0]
check(data == raw + b"\r\n", "the sink got the message byte-identical (plus the final CRLF the writer adds)")
eq(meta["tls"], True, "delivered over STARTTLS")
eq(meta["mailFrom"], "sender@example.com", "MAIL FROM")
eq(meta["rcptTo"], [rcpt], "RCPT TO: only the recipient")
eq(meta["helo"], "txmail.test", "EHLO name = myhostname")
check("SIZE=%d" % len(raw) in meta["mailParams"], "SIZE parameter announces the size (%s)" % meta["mailParams"])
check("BODY=8BITMIME" not in meta["mailParams"], "no BODY=8BITMIME for a 7-bit message")

d = ev.wait(rid, "DELIVERED", "OK")[0]
eq((d["phase"], d["state"], d["type"], d["subType"]), ("DELIVER", "FINISHED", "DELIVERED", "OK"), "event classification")
eq(d["eventKey"], "1", "eventKey of a final event")
eq(d["tag"], tag(rid, "DELIVER", "FINISHED", "DELIVERED", "OK"), "tag per contract 11.5")
check(re.fullmatch(r"\[2\.0\.0\] delivered \(host mx\.example\.net\[127\.0\.0\.1\] said: 250 2\.0\.0 Ok: queued as sink\d+\)",
                   d["description"]) is not None, "description format: %s" % d["description"])
eq(d["smtpCode"], "250", "smtpCode")
eq(d["size"], len(raw), "size")
eq(d["mail"]["email"], "To <%s>" % rcpt, "mail.email")
eq(d["mail"]["from"], "Sender <sender@example.com>", "mail.from")
eq(d["content"]["mime"]["messageId"], "<%s@txmail.test>" % rid, "content.mime.messageId")
eq(d["account"], 1, "account")
rows = sql("SELECT state, smtp_code, host, reply FROM delivery_record WHERE rid=%s", rid)
eq(len(rows), 1, "one delivery_record row")
eq(rows[0][:3], ("sent", "250", "mx.example.net[127.0.0.1]"), "delivery_record state, code, host")
check(rows[0][3].startswith("250 2.0.0 Ok: queued as sink"), "delivery_record keeps the reply")

logf = os.path.join(E["TXMAIL_STACK_DIR"], "log", "deliver-1.log")
line = wait_until(lambda: [l for l in open(logf, errors="replace") if rid in l and "status=sent" in l], 10, "the log line")[0]
check(re.search(re.escape(rid) + r": to=<" + re.escape(rcpt) + r">, relay=mx\.example\.net\[127\.0\.0\.1\]:\d+, "
                r"delay=\d+\.\d, tls=TLSv1\.[23], dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as sink\d+\)", line)
      is not None, "log line: " + line.strip())

# --- 2. 8-bit body and SMTPUTF8, null sender -------------------------------
rcpt8 = uniq("eight") + "@example.net"
raw8 = raw_message(rcpt8, body="Grüße, ünïcödé\r\n".encode())
rid8, _ = send(rcpt8, raw=raw8, smtputf8=True, mailFrom="")
meta8, data8 = sink_wait(rcpt8, 1, 30)[0]
eq(data8, raw8, "8-bit message byte-identical")
check("BODY=8BITMIME" in meta8["mailParams"] and "SMTPUTF8" in meta8["mailParams"],
      "BODY=8BITMIME and SMTPUTF8 parameters (%s)" % meta8["mailParams"])
eq(meta8["mailFrom"], "", "null sender MAIL FROM:<>")
ev.wait(rid8, "DELIVERED", "OK")

# --- 3. archive Bcc: an extra envelope recipient, no events -----------------
acct = new_account()
arch = uniq("archive") + "@example.org"
sql("UPDATE sender_domain SET archive_bcc=%s WHERE account_id=%s", arch, acct["id"])
dom_id = sql("SELECT id FROM sender_domain WHERE account_id=%s", acct["id"])[0][0]
rcpta = uniq("withbcc") + "@example.net"
rida, rawa = send(rcpta, account=acct["id"], senderDomain={"id": dom_id, "domain": acct["domain"]})
metaa, dataa = sink_wait(rcpta, 1, 30)[0]
eq(sorted(metaa["rcptTo"]), sorted([rcpta, arch]), "archive address is a second RCPT of the same transaction")
eq(dataa, rawa, "one copy, identical")
ev.wait(rida, "DELIVERED", "OK")
time.sleep(0.5)
eq([e["type"] for e in ev.of(rida)], ["DELIVERED"], "exactly one event for the recipient")
eq(len(sink_for(arch)), 1, "the archive copy is that one message")
# the archive address refused by the peer: the recipient still gets the message
arch2 = "unknown-" + uniq("arch") + "@example.org"
sql("UPDATE sender_domain SET archive_bcc=%s WHERE account_id=%s", arch2, acct["id"])
w = Worker("deliver_domain_cache=0")
rcptb = uniq("bccrefused") + "@example.net"
ridb, rawb = w.send(rcptb, account=acct["id"], senderDomain={"id": dom_id, "domain": acct["domain"]})
metab, datab = sink_wait(rcptb, 1, 30)[0]
eq((metab["rcptTo"], datab), ([rcptb], rawb), "archive RCPT refused: delivered to the recipient alone")
eq([e["type"] for e in ev.wait(ridb, "DELIVERED", "OK")], ["DELIVERED"], "DELIVERED for the recipient")
check("archive recipient <%s> refused" % arch2 in w.log(), "the refused archive address is logged")
w.stop()

# --- 4. relay host (Relay Service) wins over the MX --------------------------
rcptr = uniq("relayed") + "@example.net"
ridr, rawr = send(rcptr, relayHost="127.0.0.1:%s" % E["TXMAIL_SINK_PLAIN_PORT"])
metar, datar = sink_wait(rcptr, 1, 30, plain=True)[0]
eq(datar, rawr, "relayed message at the relay host (plain sink)")
eq(sink_for(rcptr), [], "nothing at the MX")
dr = ev.wait(ridr, "DELIVERED", "OK")[0]
check("host 127.0.0.1[127.0.0.1] said: 250" in dr["description"], "description names the relay: " + dr["description"])
done()
