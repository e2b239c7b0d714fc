"""txmail-smtpd, inbound policy: what RCPT takes and what reaches the queue.
A VERP address whose tag verifies (in any case), a role address at a bounce
domain and an envelope-rewrite address (any case) are accepted from the null
sender; the message is published as an "inbound" envelope with the right
account, kind, recipient id and the octets as sent (dot-unstuffed). A forged
tag and an unknown local part at a bounce domain get 550 5.1.1, another
domain 550 5.7.1 relaying denied, at RCPT. RCPTs of two accounts give two
envelopes; a bounce domain two accounts share gives a VERP address to the
account of the job its recipient id names, never to the other one."""
import time

from txtest import *
from inboundtest import *
from smtpdtest import queued_id

q = inbound_queue("t430_inbound")
p, port = private_inbound(q)
a = bounce_account()
b = bounce_account()
rid = new_rid(0, 1)
verp = "%s@%s" % (verp_local(rid), a["bounce"])

# ---- a VERP address, a role address, a rewrite address: one envelope
rewrite = "Replies-%s@Rewrite.example.com" % uniq("r")
sql("INSERT INTO envelope_rewrite (account_id, from_addr, rewrite_from) VALUES (%s, %s, %s)",
    a["id"], "news@" + a["domain"], rewrite.lower())
msg = (b"From: MAILER-DAEMON@mx.example.org\r\nTo: %s\r\nSubject: Undelivered\r\n\r\n"
       b".a line that starts with a dot\r\n..two dots\r\n\r\ntrailing text \xc3\xa4\r\n" % verp.encode())
c = session(port)
answers, final = send(c, "", [verp.upper(), "Postmaster@" + a["bounce"].upper(), rewrite], msg)
eq(answers, ["250 2.1.5 Ok"] * 3, "VERP (upper case), role, rewrite (mixed case) accepted")
jid = queued_id(final)
check(jid, "queued: %r" % final)
env, raw = envelopes(q, 1)[0]
eq(raw, msg, "raw: the octets as sent, dot-unstuffed")
eq((env["type"], env["job"], env["rid"] if "rid" in env else "", env["account"], env["slip"]),
   ("inbound", jid, "", a["id"], ["bounce"]), "envelope head")
check(abs(env["created"] - time.time() * 1000) < 60000, "created is the time received")
d = env["data"]
eq((d["peer"], d["helo"], d["tls"], d["mailFrom"]), ("127.0.0.1", "mx.sender.example", None, ""),
   "peer, helo, no TLS, the null sender")
eq(d["rcpt"], [{"address": verp.upper(), "kind": "verp", "rid": rid},
               {"address": "Postmaster@" + a["bounce"].upper(), "kind": "role", "rid": None},
               {"address": rewrite, "kind": "rewrite", "rid": None}], "the recipients as given, classified")

# ---- refused at RCPT: forged tag, unknown local part, foreign domain, a forged VERP at the wrong domain
local = verp_local(rid)
forged = "%s%s@%s" % (local[:-1], "a" if local[-1] != "a" else "b", a["bounce"])
other_tag = "%s@%s" % (verp_local(new_rid())[:30] + local[30:], a["bounce"])
unknown = "nobody@" + a["bounce"]
foreign = "%s@example.org" % verp_local(rid)
mine_elsewhere = "%s@%s" % (verp_local(rid), a["domain"])  # the sender domain is no bounce domain
answers, final = send(c, "someone@example.org", [forged, other_tag, unknown, foreign, mine_elsewhere], msg)
eq(answers, [USER_UNKNOWN % forged, USER_UNKNOWN % other_tag, USER_UNKNOWN % unknown,
             RELAY_DENIED % foreign, RELAY_DENIED % mine_elsewhere], "refused at RCPT")
eq(final, None, "DATA without a recipient is refused")
eq(c.cmd("RSET")[1], "250 2.0.0 Ok", "RSET")
logt = p.log_text()
for addr, why in ((forged, "VERP tag does not verify"), (unknown, "unknown local part at a bounce domain"),
                  (foreign, "not a bounce domain")):
    check(("to=<%s> (%s)" % (addr, why)) in logt, "the log names the refusal of %s: %s" % (addr, why))

# ---- accepted and refused mixed: only the accepted recipients travel
answers, final = send(c, "bounces@example.org", [unknown, verp], msg)
eq(answers, [USER_UNKNOWN % unknown, "250 2.1.5 Ok"], "one refused, one accepted")
check(queued_id(final), "queued")
env, _ = envelopes(q, 1)[0]
eq([r["address"] for r in env["data"]["rcpt"]], [verp], "only the accepted recipient")
eq(env["data"]["mailFrom"], "bounces@example.org", "mailFrom as given")

# ---- two accounts in one transaction: two envelopes, both before the 250
rid_b = new_rid(2, 3)
verp_b = "%s@%s" % (verp_local(rid_b), b["bounce"])
answers, final = send(c, "", [verp, "abuse@" + b["bounce"], verp_b, "fbl@" + a["bounce"]], msg)
eq(answers, ["250 2.1.5 Ok"] * 4, "four recipients of two accounts")
jid = queued_id(final)
got = sorted(envelopes(q, 2), key=lambda e: e[0]["account"])
eq([e["account"] for e, _ in got], sorted([a["id"], b["id"]]), "one envelope per account")
by_acct = {e["account"]: e for e, _ in got}
eq([(r["address"], r["kind"], r["rid"]) for r in by_acct[a["id"]]["data"]["rcpt"]],
   [(verp, "verp", rid), ("fbl@" + a["bounce"], "role", None)], "account A's recipients")
eq([(r["address"], r["kind"], r["rid"]) for r in by_acct[b["id"]]["data"]["rcpt"]],
   [("abuse@" + b["bounce"], "role", None), (verp_b, "verp", rid_b)], "account B's recipients")
check(jid in [e["job"] for e, _ in got], "the 250 names one of them")
check(len({e["job"] for e, _ in got}) == 2, "each its own id")
eq([r for _, r in got], [msg, msg], "both carry the message")
lines = [l for l in p.log_text().splitlines() if "status=queued" in l]
check(any(("account=%d, rcpt=2, size=%d" % (a["id"], len(msg))) in l for l in lines),
      "a log line per envelope with rcpt count and size")

# ---- a bounce domain two accounts share: the VERP goes to the job's account only
shared = uniq("shared") + ".example.net"
s1, s2 = bounce_account(shared), bounce_account(shared)
job = new_rid().split("#")[0]
sql("INSERT INTO job (job_id, account_id, entry, received_at, answer, mail_from, slip) "
    "VALUES (%s, %s, 'smtp', NOW(3), '250', 'x@example.com', 'render,deliver')", job, s2["id"])
owned = "%s@%s" % (verp_local("%s#00000000#00000000" % job), shared)
orphan = "%s@%s" % (verp_local(new_rid()), shared)
answers, final = send(c, "", [owned, orphan, "postmaster@" + shared], msg)
eq(answers, ["250 2.1.5 Ok", USER_UNKNOWN % orphan, "250 2.1.5 Ok"],
   "shared bounce domain: the job's VERP accepted, one of no job of theirs refused")
got = sorted(envelopes(q, 2), key=lambda e: e[0]["account"])
eq([(e["account"], [r["kind"] for r in e["data"]["rcpt"]]) for e, _ in got],
   sorted([(s2["id"], ["verp"]), (min(s1["id"], s2["id"]), ["role"])]),
   "the VERP to the job's account, the role address to the lowest account id")
c.cmd("QUIT")
c.close()

# ---- nothing of this touched the database: no job rows, no events
eq(sql("SELECT COUNT(*) FROM job WHERE account_id IN (%s, %s)", a["id"], b["id"])[0][0], 0, "no job rows")
done()
