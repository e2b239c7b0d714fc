"""txmail-bounce, end to end: a vacation auto-reply (corpus sample rfc3834-01,
Auto-Submitted: auto-replied) to the VERP address of a delivered message is
recognised and not counted as a bounce: no event, no suppression entry, no
forward, one log line (kind=autoreply, status=ignored) and the metric."""
from txtest import *
from bouncetest import *

fwd = uniq("replies") + "@example.com"
a = tenant(settings={"replyForward": fwd})
to = uniq("away") + "@example.net"
rid = send(a, to)
verp, mid, _ = delivered(rid, to)
msg = vacation(verp).replace(b"From: kijitora@example.net", ("From: %s" % to).encode())
inbound = smtp([verp], msg)
lines = log_lines(inbound + ": rid=")
eq(len(lines), 1, "one log line")
check(("rid=%s, kind=autoreply" % rid) in lines[0] and "status=ignored" in lines[0], "log line: " + lines[0])
time.sleep(2)  # anything the worker would have published has reached the recorder by now
eq(sorted(e["type"] for e in events(rid)), ["DELIVERED", "PROCESSED", "STARTED"], "no event besides the delivery")
eq(supp(a["id"], to), None, "no suppression entry")
eq(forwards_to(fwd), [], "an auto-reply is not forwarded")
st, _, _, m = rest("GET", "/email/v2/messages/" + rid.replace("#", "%23"), auth=(a["user"], a["password"]))
eq(m["lastEvent"]["type"], "DELIVERED", "still DELIVERED")


def counted():
    files = glob.glob(os.path.join(E["TXMAIL_STACK_DIR"], "metrics", "bounce-*.prom"))
    t = open(max(files, key=os.path.getmtime)).read() if files else ""
    return re.search(r'txmail_bounce_inbound_total\{[^}]*kind="autoreply"\} [1-9]', t) is not None


wait_until(counted, 20, "txmail_bounce_inbound_total{kind=autoreply} in the metrics")
done()
