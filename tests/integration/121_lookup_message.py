"""GET /email/v2/messages/{recipientId} (contract §12.2): an address sent
through txmail-rest and delivered to the sink answers meta (email, from,
messageId, size, smtpStatusCode, traceRecoverUntil) from its message row,
lastEvent = the delivery state, and events[] = every event row of the
address ordered by ts then recording order, each element byte for byte as
stored in event.notification; an address not recorded yet answers from the
job's answer; malformed (404, ids are opaque), unknown, expired and another
account's ids answer 404 without data."""
import json
import urllib.parse

from txevents import event, insert_job, intake, ms_of, now_ms, publish_events, recipient
from txlookup import *
from txtest import *

acct = new_account()
other = new_account(selector="s2")
stack("publish-dns")
cl, ocl = client(acct), client(other)
run = uniq("lm")
good = run + "-a@example.net"
ans = send(cl, acct, [{"to": [good], "reference": "ref-m"}])
job = ans["meta"]["jobId"]
rid0 = ans["content"]["recipients"][0]["mail"]["to"][0]["id"]
sink_wait(good)
settled(job, 1)
# the events the recorder has for the address (PROCESSING_STARTED ... DELIVERED)
wait_until(lambda: sql("SELECT 1 FROM event WHERE rid=%s AND type='DELIVERED'", rid0), 30, "DELIVERED recorded")

path = V2 + "/messages/" + rid0.replace("#", "%23")
st, hdrs, data, doc = cl.request("GET", path)
eq(st, 200, "message lookup answers 200 (%s)" % data[:200])
row = sql("SELECT email, mail_from, message_id, size, smtp_code, trace_until, last_phase, last_state, "
          "last_type, last_subtype, last_ts, received_at FROM message WHERE rid=%s", rid0)[0]
eq(list(doc.keys()), ["meta", "lastEvent", "traceRecover", "events"], "top-level keys")
eq(doc["traceRecover"], None, "traceRecover: null for a message not kept (txmail addition, §16.2)")
eq(doc["meta"], {"id": rid0, "jobId": job, "receivedTs": ans["meta"]["receivedTs"], "entryInterface": "rest",
                 "email": good, "from": row[1], "messageId": row[2], "size": row[3], "smtpStatusCode": "250",
                 "traceRecoverUntil": None}, "meta from the message row")
check(row[2] and row[2].startswith("<%s@" % rid0), "messageId is the built Message-ID: %r" % row[2])
check(row[3] > 0, "size recorded")
eq(doc["lastEvent"], last_event(row[6:11]), "lastEvent = the row's delivery state")
eq(doc["lastEvent"]["type"], "DELIVERED", "delivered to the sink")
evs = sql("SELECT notification FROM event WHERE rid=%s ORDER BY ts, seq", rid0)
check(len(evs) >= 3, "several events recorded (%d)" % len(evs))
raw = b"[" + b",".join(e[0].encode() for e in evs) + b"]"
check(data.endswith(b',"events":' + raw + b"}"), "events[]: the stored elements byte for byte, ts then seq order")
eq([e["meta"]["event"]["type"] for e in doc["events"]][-1], "DELIVERED", "the last event is DELIVERED")

# ordering: same ts, recording order decides; an older ts sorts first whatever its seq
A = acct["id"]
pj, recv = insert_job(A)
prid = "%s#00000000#00000000" % pj
publish_events([intake(A, pj, recv, [recipient(pj, 0, 0, "o@example.net")])])
t = recv + 1000
e1 = event(A, pj, prid, recv, "PROCESS", "INITIAL", "STARTED", "PROCESSING_STARTED", ts=t, email="o@example.net",
           frm="s@example.com")
e2 = event(A, pj, prid, recv, "POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", ts=t + 50, key="k2",
           email="o@example.net", frm="s@example.com")
e3 = event(A, pj, prid, recv, "POST_PROCESS", "POST_DELIVERY", "OPENED", "OK", ts=t + 50, key="k3",
           email="o@example.net", frm="s@example.com")
e0 = event(A, pj, prid, recv, "DELIVER", "FINISHED", "DELIVERED", "OK", ts=t + 20, email="o@example.net",
           frm="s@example.com", smtp_code="250")
for e in (e1, e2, e3, e0):
    publish_events([e])
    wait_until(lambda: sql("SELECT 1 FROM event WHERE tag=%s", e["tag"]), 20, "event recorded")
st, _, data, doc = cl.request("GET", V2 + msg_path(prid))
eq(st, 200, "recorded address answers")
eq([e["meta"]["tag"] for e in doc["events"]], [e1["tag"], e0["tag"], e2["tag"], e3["tag"]],
   "events by ts, then recording order")
eq(doc["lastEvent"]["type"], "DELIVERED", "lastEvent is the delivery state, not OPENED")

# not recorded yet: from the job's answer
nj, _ = insert_job(A, mail_from="np@example.com")
nrid = "%s#00000000#00000001" % nj
sql("UPDATE job SET answer=%s WHERE job_id=%s", json.dumps(
    {"meta": {"jobId": nj}, "content": {"recipients": [{"mail": {"to": [
        {"id": "%s#00000000#00000000" % nj, "email": "x@example.net"}], "cc": [{"id": nrid, "email": "Y <y@example.net>"}]}}]}}), nj)
st, _, _, doc = cl.request("GET", V2 + msg_path(nrid))
eq(st, 200, "an address not recorded yet answers")
eq((doc["meta"]["email"], doc["meta"]["from"], doc["meta"]["messageId"], doc["lastEvent"], doc["events"]),
   ("Y <y@example.net>", "np@example.com", None, None, []), "from the answer: lastEvent null, no events")
not_found(cl.request("GET", V2 + msg_path("%s#00000000#00000002" % nj)), "an id the job does not have",
          "Unknown recipient id")

# 404 without data: another account, unknown, malformed, uppercase, expired
oj, _ = insert_job(A, received=now_ms() - 46 * 86400 * 1000)
for what, cli, r in [("another account's id", ocl, rid0),
                     ("unknown id", cl, rid0[:36] + "#00000000#000000ff"),
                     ("unknown job", cl, "00000000-0000-7000-8000-000000000000#00000000#00000000"),
                     ("malformed id", cl, "nope"),
                     ("job id only", cl, job),
                     ("short group", cl, rid0[:-1]),
                     ("uppercase", cl, rid0.upper()),
                     ("expired job", cl, "%s#00000000#00000000" % oj)]:
    got = cli.request("GET", V2 + msg_path(r))
    not_found(got, what, "Unknown recipient id")
    check(good.encode() not in got[2], what + ": no data")
done()
