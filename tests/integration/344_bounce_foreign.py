"""txmail-bounce never attributes a report to another tenant. Two tenants A
and B, each with a delivered message:
- a DSN to A's VERP address whose returned headers carry B's Message-ID
  (and B's recipient): the VERP recipient id decides, B's message gets no
  event and B no suppression entry (nor does A for B's address);
- a DSN to B's bounce domain (a role address) carrying A's Message-ID: the
  Message-ID is looked up within B's account only: dropped, logged
  "foreign or unknown recipient id: dropped", nothing changes for A;
- an inbound envelope of account B naming A's recipient id as a verified
  VERP recipient (as a listener would publish it for A's id at B's bounce
  domain): dropped, nothing changes for A;
- a complaint and a reply to B's role address with A's Message-ID: no
  complaint for A, no forward anywhere.
Also a recipient id without a message row is dropped."""
from txtest import *
from txevents import new_job_id, now_ms
from bouncetest import *

fa = uniq("ra") + "@example.com"
fb = uniq("rb") + "@example.com"
a = tenant(settings={"replyForward": fa})
b = tenant(settings={"replyForward": fb})
toa1, toa2, tob = (uniq(p) + "@example.net" for p in ("a1-", "a2-", "b-"))
rida1, rida2, ridb = send(a, toa1), send(a, toa2), send(b, tob)
verpa1, mida1, _ = delivered(rida1, toa1)
_, mida2, _ = delivered(rida2, toa2)
verpb, midb, _ = delivered(ridb, tob)

# A's VERP address, B's Message-ID and recipient in the returned headers
in1 = smtp([verpa1], dsn(tob, midb, status=b"5.1.1", diag=b"550 5.1.1 user unknown"))
wait_event(rida1, "BOUNCED")
eq(outcome_of(in1), ["bounced"], "the report counts for A's VERP recipient id")
eq(events(ridb, "BOUNCED"), [], "no event for B's message")
eq(supp(b["id"], tob), None, "no suppression entry for B")
eq(supp(a["id"], tob), None, "nor for B's address at A")
eq(supp(a["id"], toa1)[0], "PREVIOUSLY_BOUNCED", "A's own address is suppressed")

# B's bounce domain, A's Message-ID
in2 = smtp(["postmaster@" + b["bounce"]], dsn(toa2, mida2, status=b"5.1.1", diag=b"550 5.1.1 user unknown"))
eq(outcome_of(in2), ["dropped"], "dropped")
check("foreign or unknown recipient id: dropped" in log_lines(in2 + ": rid=")[0], "logged as foreign or unknown")
eq(events(rida2, "BOUNCED"), [], "no event for A's message")
eq(supp(a["id"], toa2), None, "no suppression entry for A")
eq(supp(b["id"], toa2), None, "nor at B")


def inbound(account, rcpt, raw, rid=None):
    """Publish an inbound envelope as the listener would; returns its id."""
    jid = new_job_id()
    data = {"peer": "192.0.2.1", "helo": "mx.isp.example", "tls": None, "mailFrom": "",
            "rcpt": [{"address": rcpt, "kind": "verp" if rid else "role", "rid": rid}]}
    publish("txmail.work", "bounce", envelope(jid, ["bounce"], data, typ="inbound", account=account, raw=raw))
    return jid


# an inbound envelope of B naming A's recipient id (A's VERP local part at B's bounce domain)
in3 = inbound(b["id"], verpa1.split("@")[0] + "@" + b["bounce"], dsn(toa2, mida2, status=b"5.1.1"), rid=rida2)
eq(outcome_of(in3), ["dropped"], "a recipient id of another account is dropped")
check("belongs to account %d" % a["id"] in log_lines(in3 + ": rid=")[0], "and logged as foreign")
eq(events(rida2, "BOUNCED"), [], "still no event for A's message")
eq(supp(a["id"], toa2), None, "still no suppression entry for A")

# a complaint and a reply to B's role address about A's message
in4 = smtp(["abuse@" + b["bounce"]], arf(toa2, mida2))
eq(outcome_of(in4), ["dropped"], "a complaint about another tenant's message is dropped")
eq(events(rida2, "FEEDBACK_LOOP"), [], "no complaint for A")
in5 = smtp(["postmaster@" + b["bounce"]], reply(toa2, "postmaster@" + b["bounce"], mida2), mail_from=toa2)
st = outcome_of(in5)
eq(st, ["forwarded"], "a reply to B's role address is B's: forwarded to B")
m5 = wait_until(lambda: forwards_to(fb), 60, "B's forward")[0][1]
check(b"X-Txmail-Forwarded-For: " + in5.encode() in m5, "not attributed to A's recipient id: traced by the inbound id")
eq(forwards_to(fa), [], "nothing forwarded to A")

# a recipient id without a message row
ghost = "%s#00000000#00000000" % new_job_id()
in6 = inbound(a["id"], "x@" + a["bounce"], dsn(toa1, "<%s@txmail.test>" % ghost), rid=ghost)
eq(outcome_of(in6), ["dropped"], "an unknown recipient id is dropped")
done()
