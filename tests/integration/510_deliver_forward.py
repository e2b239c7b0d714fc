"""txmail-deliver forwards (`type:"forward"`, docs/ENVELOPES.md): sent to
the sink once with data.mailFrom / data.rcpt as the envelope and raw byte
for byte (a leading dot, 8-bit text, nothing added); data.relayHost is not
a forward's route (the MX is); the same envelope published twice -> one
delivery and a delivery_record row keyed by data.id; a second forward with
its own id is sent again; one log line per outcome keyed by data.id with
rid and why; no event on the bus and no row in `event`."""
import re

from dlvtest import *
from fwdtest import *
from txtest import *

ev = Events()
w = Worker()

rcpt = "fwd-" + uniq("a") + "@example.net"
_, rid = new_ids()
raw = reply_raw(rcpt, b"Hello,\r\n.a line with a leading dot\r\n..two\r\nGr\xc3\xbc\xc3\x9fe\r\n")
sender = "bounce-" + uniq("s") + "@bounce.example.com"
fid, body = forward(rcpt, raw, mail_from=sender, rid=rid, queue=w.queue,
                    relayHost="127.0.0.1:%s" % E["TXMAIL_SINK_PLAIN_PORT"])
publish("txmail.work", w.queue, body)
meta, data = sink_wait(rcpt, 1, 30)[0]
eq(meta["mailFrom"], sender, "MAIL FROM is data.mailFrom")
eq(meta["rcptTo"], [rcpt], "RCPT TO is data.rcpt, and only it")
eq(data, raw, "the body byte for byte")
check("DKIM-Signature" not in data.decode("utf-8", "replace"), "no DKIM signature added")
eq(sink_for(rcpt, plain=True), [], "the relay host in the data is not used")
line = re.escape(fid) + r": rid=" + re.escape(rid) + r", why=reply, from=<" + re.escape(sender) + \
    r">, to=<" + re.escape(rcpt) + r">, relay=mx\.example\.net\[127\.0\.0\.1\]:\d+, delay=[\d.]+, " \
    r"tls=\S+, dsn=2\.0\.0, status=sent \(250 "
wait_until(lambda: re.search(line, w.log()), 10, "the forward's log line")
eq(sql("SELECT state, smtp_code FROM delivery_record WHERE rid = %s", fid), (("sent", "250"),),
   "delivery_record keyed by data.id")

# the same envelope again (a redelivery): acked, not sent again
publish("txmail.work", w.queue, body)
wait_until(lambda: re.search(re.escape(fid) + r": .*status=sent \(already delivered\)", w.log()), 15,
           "the duplicate recognised")
time.sleep(1)
eq(len(sink_for(rcpt)), 1, "delivered once")
eq(len(re.findall(re.escape(fid) + r": rid=.*status=sent \(250 ", w.log())), 1, "one SMTP delivery logged")

# another forward (own id) of the same bytes, without rid, with the null sender: sent
fid2, body2 = forward(rcpt, raw, mail_from="", why="notice", queue=w.queue)
publish("txmail.work", w.queue, body2)
got = sink_wait(rcpt, 2, 30)
eq(got[1][0]["mailFrom"], "", "null sender MAIL FROM:<>")
eq(got[1][1], raw, "same bytes")
wait_until(lambda: re.search(re.escape(fid2) + r": rid=none, why=notice, from=<>, .*status=sent", w.log()), 10,
           "log line without rid")

# no events of any kind: not on the bus, not in the event table
time.sleep(2)
eq(ev.of(rid) + ev.of(fid) + ev.of(fid2) + ev.of(""), [], "no event published")
eq(event_rows([body, body2], rid, fid, fid2), (), "no row in event")
check(w.prog.alive(), "worker alive")
w.stop()
done()
