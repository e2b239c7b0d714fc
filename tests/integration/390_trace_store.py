"""Trace & Recover, the store (contract §16.2): a REST job with
job.options.traceRecover.active keeps each built message in trace_store
(rday of the job, the account, stored_until = receivedTs + 45 days, the
envelope a recovery needs, raw = the message as sent), the address gets
PROCESS/INTERMEDIATE/TRACE_RECOVER_STORE/OK `stored until <ts>` after
PROCESSING_FINISHED (recorded as the message's traceRecoverUntil, posted to
the webhook in the shape of notification-trace-recover-store.json), the
envelope-from rewriting is not applied; a job without the switch keeps
nothing; an SMTP job with X-RETARUS-M4A-TRACE-RECOVER-ACTIVE: true is kept,
previewed and recovered the same way; `txmailctl db partitions` removes copies past stored_until."""
from txtest import *
from txevents import iso, ms_of
from tracetest import *
import smtpdtest
from txrest import is_ts

need_stack()
hook = WebhookReceiver()
acct = tr_account(notify_url=hook.url)
stack("publish-dns")
cl = client(acct)
A = acct["id"]
sender = "news@" + acct["domain"]
sql("INSERT INTO envelope_rewrite (account_id, from_addr, rewrite_from) VALUES (%s, %s, %s)",
    A, sender, "bounce-news@rewrite.example.com")
time.sleep(2.5)  # the stack's render reads rewrites again after 2 s

a, b = uniq("tr") + "@example.net", uniq("tr") + "@example.net"
ans = send(cl, acct, [a, b], body="kept body", sender="News <%s>" % sender)
job = ans["meta"]["jobId"]
r_a, r_b = rids(ans)
got_a = sink_wait(a)[0]
sink_wait(b)
check(b"kept body" in got_a[1], "the message arrived")
eq(got_a[0]["mailFrom"] != "bounce-news@rewrite.example.com", True,
   "no envelope-from rewriting for Trace & Recover (MAIL FROM %r)" % got_a[0]["mailFrom"])

jrow = sql("SELECT received_at FROM job WHERE job_id=%s", job)[0]
recv_ms = ms_of(jrow[0])
for r, addr in ((r_a, a), (r_b, b)):
    rday, acc, until, env, raw = stored(r)
    eq(str(rday), iso(recv_ms)[:10], "rday is the job's day")
    eq(acc, A, "the account's row")
    eq(ms_of(until), recv_ms + KEEP_MS, "stored_until = receivedTs + 45 days")
    env = json.loads(env)
    eq((env["rid"], env["rcpt"], env["email"], env["sender"], env["entry"]), (r, addr, addr, sender, "rest"),
       "envelope: rid, rcpt, email, the bare sender, entry")
    check(env["options"]["traceRecover"]["active"] is True, "envelope keeps the options")
    eq(env["rewriteFrom"], None, "envelope: not rewritten")
    sent = [x for x in sink_for(addr)][0][1]
    check(bytes(raw) in sent, "raw is the message as sent (the sink adds its Received: only)")

# the event after PROCESSING_FINISHED, its description, the recorded traceRecoverUntil
want_desc = "stored until " + iso(recv_ms + KEEP_MS)
for r in (r_a, r_b):
    ev = wait_until(lambda: events_of(r, "TRACE_RECOVER_STORE"), 30, "TRACE_RECOVER_STORE of %s" % r)
    eq(len(ev), 1, "one store event per address")
    eq(ev[0][:5], ("PROCESS", "INTERMEDIATE", "TRACE_RECOVER_STORE", "OK", want_desc), "the store event")
    ts = dict(sql("SELECT subtype, ts FROM event WHERE rid=%s AND phase='PROCESS'", r))
    check(ts["OK"] >= ts["PROCESSING_FINISHED"], "not before PROCESSING_FINISHED: %r" % ts)
    eq(sql("SELECT trace_until FROM message WHERE rid=%s", r)[0][0] is not None, True, "message.trace_until set")
wait_until(lambda: sql("SELECT 1 FROM message WHERE rid=%s AND last_type='DELIVERED'", r_a), 60, "delivered")
st, _, _, doc = cl.request("GET", msg_path(r_a))
eq(doc["meta"]["traceRecoverUntil"], iso(recv_ms + KEEP_MS), "traceRecoverUntil in the message answer")
eq(doc["lastEvent"]["type"], "DELIVERED", "the store event does not change the delivery state")

# the webhook in the sample's shape
def store_posts():
    out = []
    for req in hook.requests:
        for n in json.loads(req["body"])["notifications"]:
            if n["meta"]["event"]["type"] == "TRACE_RECOVER_STORE":
                out.append((json.loads(req["body"])["meta"], n))
    return out


posts = wait_until(lambda: (lambda p: p if len(p) >= 2 else None)(store_posts()), 30, "the store webhooks")
smp = sample("notification-trace-recover-store.json")
for meta, n in posts:
    got_ev = dict(n["meta"]["event"])
    check(is_ts(got_ev.pop("ts", None)), "event.ts is a timestamp")
    eq(got_ev, dict(smp["notifications"][0]["meta"]["event"], description=want_desc),
       "event as in the sample, with the description")
    eq(meta["jobId"], job, "meta.jobId")
    check(set(smp["meta"]) <= set(meta), "top-level meta has the sample's members")
eq(sorted(n["meta"]["mail"]["id"] for _, n in posts), sorted([r_a, r_b]), "one per address")

# a job without the switch keeps nothing
c = uniq("notr") + "@example.net"
plain = send(cl, acct, [c], tr=False)
r_c = rids(plain)[0]
sink_wait(c)
settled_rows = wait_until(lambda: sql("SELECT final_at FROM message WHERE rid=%s AND final_at IS NOT NULL", r_c),
                          60, "final state of the job without Trace & Recover")
eq(sql("SELECT COUNT(*) FROM trace_store WHERE rid=%s", r_c)[0][0], 0, "nothing kept without the switch")
eq(list(events_of(r_c, "TRACE_RECOVER_STORE")), [], "no store event without the switch")

# SMTP: the header switch
d = uniq("smtp") + "@example.test"
msg = smtpdtest.message(mail_from=sender, to=d, subject="smtp trace", body="smtp kept body\r\n",
                        extra="X-RETARUS-M4A-TRACE-RECOVER-ACTIVE: true\r\n")
code, text = smtpdtest.send(msg, sender, [d], user=acct["user"], password=acct["password"])
eq(code, 250, "SMTP job accepted: %s" % text)
sjob = smtpdtest.queued_id(text)
r_d = sjob + "#00000000#00000000"
sink_wait(d)
rday, acc, until, env, raw = stored(r_d)
env = json.loads(env)
eq((env["entry"], env["rcpt"], env["sender"]), ("smtp", d, sender), "SMTP envelope kept")
check(b"smtp kept body" in bytes(raw) and b"X-RETARUS-M4A" not in bytes(raw), "the SMTP message as sent")
ev = wait_until(lambda: events_of(r_d, "TRACE_RECOVER_STORE"), 30, "SMTP store event")
check(ev[0][4].startswith("stored until "), "SMTP job: store event %r" % (ev[0][4],))
wait_until(lambda: sql("SELECT 1 FROM message WHERE rid=%s AND last_type='DELIVERED'", r_d), 60, "SMTP delivered")
st, _, data, doc = cl.request("GET", msg_path(r_d))
eq(st, 200, "SMTP job: message answer (%s)" % data[:300])
eq(doc["traceRecover"]["preview"], "smtp kept body", "SMTP job: the preview")
st, _, _, doc = recover(cl, r_d)
eq(st, 200, "SMTP job: recovered")
again = sink_wait(d, count=2)
check(all(b"smtp kept body" in x[1] for x in again), "SMTP job: the same body arrives again")
wait_until(lambda: sql("SELECT 1 FROM event WHERE rid=%s AND phase='RESEND' AND subtype='OK' AND description=%s",
                       r_d, "resent as " + doc["meta"]["jobId"]), 30, "SMTP job: the RESEND event")

# retention: a copy past stored_until is removed by txmailctl db partitions, a kept one stays
sql("UPDATE trace_store SET stored_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE rid=%s", r_b)
_, out, _ = ctl("db", "partitions")
check("trace_store" in out, "the command says it expired trace_store rows: %r" % out)
eq(sql("SELECT COUNT(*) FROM trace_store WHERE rid=%s", r_b)[0][0], 0, "the expired copy is gone")
eq(sql("SELECT COUNT(*) FROM trace_store WHERE rid=%s", r_a)[0][0], 1, "the kept copy stays")
done()
