"""A broker that stops reading does not hang a producer (issue 11): with a
memory alarm raised, RabbitMQ blocks publishing connections
(connection.blocked) and reads nothing more from them, so a publish larger
than the socket buffers can never complete. txmail-rest (broker_send_timeout
2 s) answers such a request 503 within seconds instead of never; no job and
no acceptance record exist for it; once the alarm is gone the producer
reconnects and accepts again."""
import atexit
import base64

from txtest import *
from txrest import Client, PrivateRest, base_request

rest = PrivateRest(broker_send_timeout="2s", rest_confirm_timeout="5s")
acct = new_account()
c = Client(base=rest.url, user=acct["user"], password=acct["password"], timeout=90)
small = base_request(acct["domain"], to=uniq("al") + "@example.test")
st, _, raw, _ = c.post(small)
eq(st, 200, "before the alarm: accepted (%r)" % raw[:200])

big = base_request(acct["domain"], to=uniq("al") + "@example.test")
big["attachments"] = [{"name": "big.bin", "contentType": "application/octet-stream",
                       "content": base64.b64encode(os.urandom(13 * 1024 * 1024)).decode()}]


def restore():
    stack("rabbitmqctl", "set_vm_memory_high_watermark", "0.6")


atexit.register(restore)
stack("rabbitmqctl", "set_vm_memory_high_watermark", "0.00001")
wait_until(lambda: "memory" in stack("rabbitmqctl", "-q", "eval", "rabbit_alarm:get_alarms()."), 30,
           "the broker's memory alarm")
t0 = time.time()
try:
    st, _, raw, doc = c.post(big)
except OSError as e:  # the client's own 90 s timeout: the producer hung
    fail("no answer within 90 s while the broker is blocked: %r" % e)
took = time.time() - t0
eq(st, 503, "a publish the blocked broker does not take: 503 (%r)" % raw[:200])
check(took < 30, "answered in %.1f s (send timeout 2 s), not never" % took)
check("did not take our data" in rest.prog.log_text(), "the producer logs the cut-off send")
job = doc["meta"]["jobId"]
eq(sql("SELECT COUNT(*) FROM job WHERE job_id=%s", job)[0][0], 0, "no acceptance record for it")

restore()
wait_until(lambda: "memory" not in stack("rabbitmqctl", "-q", "eval", "rabbit_alarm:get_alarms()."), 30,
           "the alarm cleared")


def accepted():
    st, _, _, _ = c.post(small)
    return st == 200


wait_until(accepted, 30, "accepted again after the alarm", interval=0.5)
done()
