"""txmail-deliver under load: 200 messages of 200 KB waiting in the queue
when a worker with 16 handler threads starts all arrive at the sink intact
and exactly once, with one DELIVERED each; prints the delivery rate
(messages/s from the worker's start to the last DELIVERED event, over
STARTTLS to the stack's sink, which writes every message to disk)."""
import pika

from dlvtest import *
from txtest import *

N, SIZE = 200, 200 * 1024
ev = Events()
q = uniq("dlvload")
temp_queue(q, "txmail.work", q)
tagp = uniq("load")
line = b"The quick brown fox jumps over the lazy dog. " * 1 + b"0123456789" * 3 + b"\r\n"
body = (b".leading dot\r\n" + line * (SIZE // len(line)))[:SIZE - 2] + b"\r\n"
conn = amqp()
ch = conn.channel()
ch.confirm_delivery()
rids = []
t0 = time.time()
for i in range(N):
    r = "%s-%03d@example.net" % (tagp, i)
    rid, env = message(r, raw=raw_message(r, body=body), slip=[q])
    rids.append((rid, r))
    ch.basic_publish("txmail.work", q, env, pika.BasicProperties(delivery_mode=2), mandatory=True)
conn.close()
t_pub = time.time() - t0
t0 = time.time()
w = Worker("deliver_concurrency=16", name=q)


def all_delivered():
    ev.poll()
    n = sum(1 for rid, _ in rids if any(e["type"] == "DELIVERED" for e in ev.by_rid.get(rid, [])))
    return n == N or None


wait_until(all_delivered, 120, "%d DELIVERED events" % N, interval=0.2)
elapsed = time.time() - t0
log("published %d x %d KB in %.2fs; worker started, all delivered after %.2fs: %.0f msg/s"
    % (N, SIZE // 1024, t_pub, elapsed, N / elapsed))
msgs = [m for m in sink_messages() if m[0]["rcptTo"][0].startswith(tagp)]
eq(len(msgs), N, "every message at the sink")
eq(len({m[0]["rcptTo"][0] for m in msgs}), N, "each exactly once")
check(all(m[1].endswith(body) for m in msgs), "every body intact (dot-stuffing undone by the peer)")
for rid, _ in rids:
    kinds = [e["type"] for e in ev.by_rid.get(rid, [])]
    if kinds != ["DELIVERED"]:
        fail("%s: events %r" % (rid, kinds))
check(True, "one DELIVERED per message, nothing else")
w.stop()
done()
