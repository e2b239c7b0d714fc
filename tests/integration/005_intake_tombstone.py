"""An accepted job is never silently discarded (issue 11): the acceptance
record and the first stage's discard exclude each other.

(a) A txmail-rest (and (a') a txmail-smtpd: 451, not 250) whose database stalls after the broker confirmed the job
(its connection goes through a proxy that holds the INSERT of the
acceptance record) until the first stage (a txmail-render with a 2 s grace)
has given up: the first stage writes a tombstone under the job's key, the
producer's late INSERT collides with it, and the client gets 503, not 200;
the job is never delivered (nothing at the sink, no intake events); the DB
holds the tombstone (http_status 0). A retry with the same Idempotency-Key
is a new request (the key of a 503 is not kept): accepted, delivered once.

(b) Clock skew: a job whose producer clock is an hour behind (created an hour
ago) and whose record comes 1 s after the first stage first saw it is
processed, not discarded: the window is measured by the first stage's clock
from its first look. (c) A producer clock days behind (the job is past its
maximum age at once): discarded, but with its tombstone, so a late record
collides."""
import atexit
import os
import signal
import socket
import threading

from txtest import *
from txrest import Client, PrivateRest, free_port
import rendertest

D = E["TXMAIL_STACK_DIR"]


class StallingProxy:
    """TCP -> the stack's MariaDB socket. Once armed, the first client packet
    that contains `marker` (and everything after it, both ways) is held until
    release()."""

    def __init__(self, marker):
        self.marker = marker
        self.armed = threading.Event()
        self.hit = threading.Event()
        self.go = threading.Event()
        self.ls, self.port = serve_tcp(self._connection, backlog=64)

    def _connection(self, c):
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        u.connect(E["TXMAIL_DB_SOCKET"])
        threading.Thread(target=self._pump, args=(u, c, False), daemon=True).start()
        self._pump(c, u, True)

    def _pump(self, src, dst, upstream):
        tail = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if upstream and self.armed.is_set() and not self.hit.is_set() \
                        and self.marker in tail + data:
                    self.hit.set()
                if self.hit.is_set() and not self.go.is_set():
                    self.go.wait()
                tail = data[-len(self.marker):]
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def release(self):
        self.go.set()


# the stack's render is replaced by one with a 2 s grace
sup = int(open(D + "/run/render-1.pid").read())
child = int(open(D + "/log/render-1.log.pid").read())
os.kill(sup, signal.SIGTERM)
wait_until(lambda: not os.path.exists("/proc/%d" % child), 30, "the stack's render stopped")
atexit.register(lambda: stack("programs-up"))
render = Program("txmail-render", "-o", "render_grace=2s", log_name="render-005")

proxy = StallingProxy(b"INSERT INTO job (")
rest = PrivateRest(db_socket="", db_host="127.0.0.1", db_port=str(proxy.port))
acct = new_account(selector=uniq("s"))
stack("publish-dns")
rcpt = uniq("fs") + "@example.test"
req = {"subject": {"content": "stalled"}, "recipients": [{"mail": {"to": [{"email": rcpt}]}}],
       "mail": {"from": {"email": "Sender <sender@%s>" % acct["domain"]}}}
c = Client(base=rest.url, user=acct["user"], password=acct["password"], timeout=120)
key = uniq("idem-")

# ---- (a) the producer stalls after the confirm, past the first stage's grace
proxy.armed.set()
got = {}


def post():
    got["r"] = c.post(req, headers={"Idempotency-Key": key})


t = threading.Thread(target=post)
t.start()
wait_until(proxy.hit.is_set, 30, "the producer's acceptance record held by the proxy")
wait_until(lambda: "discarded: no acceptance record" in render.log_text(), 30,
           "the first stage gives up on the job")
time.sleep(0.5)
proxy.release()
t.join(60)
st, hdrs, raw, doc = got["r"]
eq(st, 503, "the client of the stalled producer gets an error, not 200 (%r)" % raw[:200])
job = doc["meta"]["jobId"]
rows = sql("SELECT job_id, http_status FROM job WHERE account_id=%s", acct["id"])
eq(rows, ((job, 0),), "the DB holds the job's tombstone (http_status 0) and no acceptance record")
check("tombstone" in sql("SELECT answer FROM job WHERE job_id=%s", job)[0][0], "the tombstone says so")
check("first stage gave up" in rest.prog.log_text(), "the producer logs why it answers failure")
time.sleep(3)
eq(sink_for(rcpt), [], "the discarded job was never delivered")
eq(sql("SELECT COUNT(*) FROM message WHERE job_id=%s", job)[0][0], 0, "no message rows: no intake record")

# ---- the client retries with the same Idempotency-Key: a new request, accepted once
st, hdrs, raw, doc2 = c.post(req, headers={"Idempotency-Key": key})
eq(st, 200, "the retry with the same Idempotency-Key is accepted (the key of a 503 is not kept)")
check("x-txmail-idempotent-replay" not in hdrs, "not a replay")
job2 = doc2["meta"]["jobId"]
check(job2 != job, "a new job")
sink_wait(rcpt, 1, timeout=60)
time.sleep(2)
eq(len(sink_for(rcpt)), 1, "delivered exactly once")
eq(sql("SELECT http_status FROM job WHERE job_id=%s", job2), ((200,),), "its acceptance record")
st, hdrs, raw, doc3 = c.post(req, headers={"Idempotency-Key": key})
eq((st, hdrs.get("x-txmail-idempotent-replay"), doc3["meta"]["jobId"]), (200, "true", job2),
   "a third try replays the accepted answer")
rest.stop()

# ---- (a') the same for txmail-smtpd: 451, not 250
import smtpdtest  # noqa: E402

proxy2 = StallingProxy(b"INSERT INTO job (")
smtpd, sport = smtpdtest.private_smtpd("db_socket=", "db_host=127.0.0.1", "db_port=%d" % proxy2.port,
                                       name="smtpd-005")
srcpt = uniq("fss") + "@example.test"
sender = "app@" + acct["domain"]
sc = smtpdtest.Raw(port=sport, timeout=90)
sc.login(acct["user"], acct["password"])
discards = render.log_text().count("discarded: no acceptance record")
proxy2.armed.set()
sres = {}
t = threading.Thread(target=lambda: sres.update(r=smtpdtest.transaction(
    sc, sender, [srcpt], smtpdtest.message(sender, srcpt, "stalled smtp"))))
t.start()
wait_until(proxy2.hit.is_set, 30, "smtpd's acceptance record held by the proxy")
wait_until(lambda: render.log_text().count("discarded: no acceptance record") > discards, 30,
           "the first stage gives up on the SMTP job")
time.sleep(0.5)
proxy2.release()
t.join(60)
eq(sres["r"][-1], (451, "451 4.3.0 Temporary failure, please retry"),
   "the client of the stalled smtpd gets 451, not 250")
eq(sql("SELECT entry, http_status FROM job WHERE account_id=%s AND entry='smtp'", acct["id"]), (("smtp", 0),),
   "the DB holds the SMTP job's tombstone and no acceptance record")
time.sleep(3)
eq(sink_for(srcpt), [], "the discarded SMTP job was never delivered")
sc.close()
smtpd.stop()

# ---- (b) the producer's clock an hour behind: the window is the first stage's
racct = rendertest.account_with_domain(publish=False)
jb = rendertest.new_job()
r = {"subject": {"content": "skew"}, "mail": {"from": {"email": "Shop <shop@%s>" % racct["domain"]}},
     "recipients": [{"mail": {"to": [{"email": uniq("skew") + "@example.test"}]}}]}
created = rendertest.now_ms() - 3600 * 1000
data = rendertest.rest_data(racct, r, jb, received=created)
rendertest.submit(racct, jb, data, stage="render", row=False, created=created)
wait_until(lambda: jb in render.log_text(), 15, "the first stage saw the skewed job")
time.sleep(1.0)
rendertest.job_row(jb, racct, created)
wait_until(lambda: "%s: stage=render attempt=0 status=ok" % jb in render.log_text(), 30,
           "the skewed job is processed once its record is there")
check("discarded" not in "\n".join(l for l in render.log_text().splitlines() if jb in l),
      "the skewed job was not discarded")

# ---- (c) a producer clock days behind: the job expires (render_max_age counts from the
# producer's clock) before the first stage may wait for it; it still leaves a tombstone
jc = rendertest.new_job()
r["subject"]["content"] = "expired"
created = rendertest.now_ms() - 3 * 86400 * 1000
data = rendertest.rest_data(racct, r, jc, received=created)
rendertest.submit(racct, jc, data, stage="render", row=False, created=created)
wait_until(lambda: "%s: discarded: the acceptance record could not be checked in time (tombstone written)" % jc
           in render.log_text(), 30, "the expired job's discard, with its tombstone")
try:
    rendertest.job_row(jc, racct, created)
    fail("a late acceptance record of the expired job was written")
except Exception as e:  # noqa: BLE001
    check("Duplicate" in str(e), "a late acceptance record collides with the tombstone: %s" % e)
done()
