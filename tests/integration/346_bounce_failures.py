"""txmail-bounce's failure paths and the message that is not final yet:
- garbage to a VERP address (no header at all, then binary noise) is
  logged and dropped; the worker keeps running and handles the next report;
- an inbound envelope with malformed data is rejected (logged), the next
  one is handled;
- a reply carrying txmail's trace field (a forward that came back) is
  dropped: no forwarding loop;
- a failure report for a message that is not final yet (intake recorded,
  never delivered) ends it: DELIVER/FINISHED/BOUNCED/HARD_BOUNCE with
  eventKey 1, the delivery state becomes BOUNCED;
- the virus scan engine without signatures: a reply is never forwarded
  unscanned (logged deferred, retried); once the engine works again the
  retried reply is forwarded."""
from txtest import *
from txevents import insert_job, intake, new_job_id, publish_events, recipient, rid as rid_of, now_ms
from bouncetest import *


def alive():
    child = int(open(os.path.join(E["TXMAIL_STACK_DIR"], "log", "bounce-1.log.pid")).read())
    return os.path.exists("/proc/%d" % child)


a = tenant(settings={"replyForward": uniq("replies") + "@example.com"})
to = uniq("g") + "@example.net"
rid = send(a, to)
verp, mid, _ = delivered(rid, to)

# garbage
g1 = smtp([verp], b"this is not a message at all\r\nno header, no body\r\n")
eq(outcome_of(g1), ["dropped"], "a text without a header: dropped")
noise = bytes(x for x in range(1, 256) if x not in (10, 13))
g2 = smtp([verp], b"X: y\r\n\r\n" + b"\r\n".join([noise] * 40) + b"\r\n")
eq(outcome_of(g2), ["dropped"], "binary noise: dropped")
check(alive(), "the worker keeps running")
eq(events(rid, "BOUNCED"), [], "garbage changes nothing")


def inbound(data, raw=b"Subject: x\r\n\r\nx\r\n", account=None, rid=""):
    jid = new_job_id()
    publish("txmail.work", "bounce",
            envelope(jid, ["bounce"], data, typ="inbound", account=account or a["id"], raw=raw))
    return jid


# malformed inbound envelopes: rejected, logged
bad = inbound({"peer": "192.0.2.1", "mailFrom": "", "rcpt": "not a list"})
check(wait_until(lambda: [l for l in open(LOG, errors="replace") if bad in l and "status=rejected" in l], 20,
                 "the malformed envelope rejected"), "logged as rejected")
bad2 = inbound({"peer": "192.0.2.1", "rcpt": [{"address": "x@" + a["bounce"], "kind": "role", "rid": None}]})
check(wait_until(lambda: [l for l in open(LOG, errors="replace") if bad2 in l and "status=rejected" in l], 20,
                 "the envelope without mailFrom rejected"), "no mailFrom: rejected")
check(alive(), "the worker keeps running")

# the next report is handled
smtp([verp], dsn(to, mid, status=b"5.1.1", diag=b"550 5.1.1 user unknown"))
eq(wait_event(rid, "BOUNCED")[0]["subType"], "HARD_BOUNCE", "the next report is handled")

# a forward of ours that came back (a forwarding address leading here): dropped, no loop
loop = b"X-Txmail-Forwarded-For: " + rid.encode() + b"\r\n" + reply(to, verp, mid)
eq(outcome_of(smtp([verp], loop, mail_from=to)), ["dropped"], "a forward of ours that came back is dropped")

# a message that is not final yet: the report ends it
job, received = insert_job(a["id"], mail_from="Shop <%s>" % a["sender"])
r2 = rid_of(job)
to2 = uniq("late") + "@example.net"
publish_events([intake(a["id"], job, received, [recipient(job, 0, 0, to2)], mail_from="Shop <%s>" % a["sender"])])
wait_until(lambda: sql("SELECT 1 FROM message WHERE rid=%s", r2), 20, "the message row")
mid2 = "<%s@txmail.test>" % r2
sql("UPDATE message SET message_id=%s WHERE rid=%s", mid2, r2)
in2 = inbound({"peer": "192.0.2.1", "helo": "mx", "tls": None, "mailFrom": "",
               "rcpt": [{"address": "b1x@" + a["bounce"], "kind": "verp", "rid": r2}]},
              raw=dsn(to2, mid2, status=b"5.1.1", diag=b"550 5.1.1 user unknown"))
e = wait_event(r2, "BOUNCED")[0]
eq((e["phase"], e["state"], e["subType"], e["key"]), ("DELIVER", "FINISHED", "HARD_BOUNCE", "1"),
   "not final yet: DELIVER/FINISHED/BOUNCED/HARD_BOUNCE, eventKey 1")
wait_until(lambda: sql("SELECT last_type FROM message WHERE rid=%s AND final_at IS NOT NULL", r2) == (("BOUNCED",),),
           20, "the delivery state BOUNCED")
eq(supp(a["id"], to2)[0], "PREVIOUSLY_BOUNCED", "and suppressed")

# no signatures: replies wait, never forwarded unscanned
fwd = uniq("wait") + "@example.com"
ctl("account", "set", a["name"], "--settings", json.dumps({"replyForward": fwd}))
empty = os.path.join(E["TXMAIL_STACK_DIR"], "no-signatures")
os.makedirs(empty, exist_ok=True)
own = instead_of_stack("bounce", "-o", "bounce_scan_signatures=" + empty, "-o", "bounce_retry_schedule=1s",
                       log_name="bounce-346")
time.sleep(1)
in3 = smtp([verp], reply(to, verp, mid), mail_from=to)
wait_until(lambda: in3 in own.log_text() and "status=deferred" in own.log_text(), 30, "the reply deferred")
check("virus scan unavailable" in own.log_text(), "logged: virus scan unavailable")
time.sleep(2)
eq(forwards_to(fwd), [], "not forwarded unscanned")
own.stop()
stack("programs-up")
wait_until(lambda: forwards_to(fwd), 60, "forwarded once the engine scans again")
done()
