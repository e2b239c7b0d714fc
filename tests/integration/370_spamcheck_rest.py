"""txmail-spamcheck with the stack's real spamd, REST jobs (contract §16.4):
- GTUBE with block-above: PROCESS/FINISHED/DROPPED/SPAM_DETECTED, nothing at
  the sink, the SPAM_SCORE_CHECK event's spamscore.score above the
  threshold and its rules naming GTUBE with its score and description;
- the same message with score-only: delivered, the event with the score;
- a normal message: delivered, a low score, the rules list;
- the threshold edge: a score equal to the threshold is not blocked, a
  threshold 0.1 under the measured score is;
- every address gets its SPAM_SCORE_CHECK event with the tag of §11.5 (key
  "1": a redelivered message raises the same tag), content.mime.messageId
  the delivered message's, and one log line in txmail-spamcheck's log."""
import email
import email.policy

from txtest import *
from txevents import tag
from spamtest import GTUBE, HAM, HTML, SSC, events, log_line, send, spamscore, tenant, wait_event

acct = tenant()
run = uniq("sc").lower()


def no_mail(to, seconds=3):
    time.sleep(seconds)
    eq(sink_for(to), [], "nothing at the sink for %s" % to)


def ssc_of(rid):
    ev = wait_event(rid, "SPAM_SCORE_CHECK")
    eq((ev["phase"], ev["state"], ev["type"], ev["subType"]), SSC, "SPAM_SCORE_CHECK's phase, state, subType")
    eq(ev["tag"], tag(rid, *SSC), "the tag of §11.5 with key 1 (the same on redelivery)")
    eq(len(events(rid, "SPAM_SCORE_CHECK")), 1, "one SPAM_SCORE_CHECK event")
    return ev


def rules_ok(sc, what):
    check(isinstance(sc["rules"], list) and sc["rules"], "%s: a rules list" % what)
    for r in sc["rules"]:
        eq(sorted(r.keys()), ["description", "name", "score"], "%s: rule members" % what)
        check(isinstance(r["score"], (int, float)) and r["name"] and isinstance(r["description"], str),
              "%s: rule %r" % (what, r))


# ---------------------------------------------------------------- GTUBE, block-above: dropped
to1 = run + "-gtube-block@example.net"
r1 = send(acct, to1, text="Buy now.\n" + GTUBE + "\n", spam={"active": True, "mode": "block-above"})
drop = wait_event(r1, "DROPPED")
eq((drop["phase"], drop["state"], drop["subType"]), ("PROCESS", "FINISHED", "SPAM_DETECTED"), "GTUBE blocked")
check(drop["description"].startswith("spam score 1000.0 above the threshold 5.0"), drop["description"])
sc = spamscore(ssc_of(r1))
check(sc["score"] > sc["threshold"] and sc["threshold"] == 5.0, "score %r > threshold %r" % (sc["score"], sc["threshold"]))
g = [r for r in sc["rules"] if r["name"] == "GTUBE"]
eq(len(g), 1, "the rules name GTUBE")
check(g[0]["score"] >= 999 and "Generic Test for Unsolicited Bulk Email" in g[0]["description"], "GTUBE rule %r" % g[0])
rules_ok(sc, "GTUBE")
no_mail(to1)
eq(events(r1, "DELIVERED"), [], "no DELIVERED event")
check("status=dropped" in log_line(r1)[-1] and "score=1000.0" in log_line(r1)[-1], "log line: %s" % log_line(r1)[-1])

# ---------------------------------------------------------------- GTUBE, score-only: delivered with its score
to2 = run + "-gtube-score@example.net"
r2 = send(acct, to2, text="Buy now.\n" + GTUBE + "\n", spam={"active": True})
m = sink_wait(to2)[0]
ev2 = ssc_of(r2)
sc2 = spamscore(ev2)
check(sc2["score"] >= 999, "score-only: scored %r" % sc2["score"])
check(any(r["name"] == "GTUBE" for r in sc2["rules"]), "score-only: GTUBE in the rules")
eq(events(r2, "DROPPED"), [], "score-only: not dropped")
msg = email.message_from_bytes(m[1], policy=email.policy.compat32)
eq(ev2["notification"]["content"]["mime"]["messageId"], msg["Message-ID"].strip(),
   "content.mime.messageId is the delivered message's")
check(ev2["description"].startswith("score 1000.0 (threshold 5.0"), ev2["description"])
check("status=scored" in log_line(r2)[-1], "log line: %s" % log_line(r2)[-1])
wait_event(r2, "DELIVERED")
st, _, _, doc = rest("GET", "/email/v2/messages/" + r2.replace("#", "%23"), auth=(acct["user"], acct["password"]))
eq(st, 200, "GET /email/v2/messages/{id} (checked against docs/openapi.json)")
got = [e["content"]["spamscore"] for e in doc["events"] if e["meta"]["event"]["type"] == "SPAM_SCORE_CHECK"]
eq(got, [sc2], "the message's events list SPAM_SCORE_CHECK with its spamscore")

# ---------------------------------------------------------------- a normal message: low score, delivered
to3 = run + "-ham@example.net"
r3 = send(acct, to3, spam={"active": True, "mode": "block-above"})
sink_wait(to3)
sc3 = spamscore(ssc_of(r3))
check(sc3["score"] < 5.0, "a normal message scores low (%r)" % sc3["score"])
rules_ok(sc3, "ham")
log("normal message: score %s, rules %s" % (sc3["score"], [r["name"] for r in sc3["rules"]]))
wait_event(r3, "DELIVERED")

# ---------------------------------------------------------------- a block of 10 addresses: one score for the block
tos = ["%s-block%d@example.net" % (run, i) for i in range(10)]
body = {"subject": {"content": "Your order 4711"}, "body": {"content": HAM, "contentType": "text/plain"},
        "mail": {"from": {"email": "Shop <%s>" % acct["sender"]}},
        "recipients": [{"mail": {"to": [{"email": t} for t in tos]}}],
        "job": {"options": {"spamCheck": {"active": True}}}}
st, _, raw, j = rest("POST", "/email/v2/jobs", body=body, auth=(acct["user"], acct["password"]))
eq(st, 200, "a block of 10 addresses accepted")
rids = [x["id"] for x in j["content"]["recipients"][0]["mail"]["to"]]
scores = []
for t, r in zip(tos, rids):
    sink_wait(t)
    scores.append(spamscore(ssc_of(r)))
eq([x == scores[0] for x in scores], [True] * 10, "every address of the block: the same spamscore")
cached = sum(1 for r in rids if "cached=yes" in log_line(r)[-1])
check(cached >= 1, "the block's score answered %d of its 10 addresses from the cache" % cached)
log("block of 10: %d scores from the cache" % cached)

# ---------------------------------------------------------------- the threshold edge
# an HTML-only message scores above 0 (MIME_HTML_ONLY...): measured, then used as threshold
to6 = run + "-html@example.net"
r6 = send(acct, to6, text=HTML, ctype="text/html", spam={"active": True})
sink_wait(to6)
s = spamscore(ssc_of(r6))["score"]
check(0 < s < 5.0, "the HTML-only message scores above 0 and under 5 (%r)" % s)
to4 = run + "-edge-equal@example.net"
r4 = send(acct, to4, text=HTML, ctype="text/html", spam={"active": True, "mode": "block-above", "threshold": s})
to5 = run + "-edge-under@example.net"
r5 = send(acct, to5, text=HTML, ctype="text/html",
          spam={"active": True, "mode": "block-above", "threshold": round(s - 0.1, 1)})
sink_wait(to4)
sc4 = spamscore(ssc_of(r4))
eq((sc4["score"], sc4["threshold"]), (s, s), "the same message scores the same; score == threshold")
eq(events(r4, "DROPPED"), [], "a score equal to the threshold is not blocked")
d5 = wait_event(r5, "DROPPED")
eq(d5["subType"], "SPAM_DETECTED", "a threshold 0.1 under the score blocks")
eq(spamscore(ssc_of(r5))["score"], s, "scored the same")
no_mail(to5)
done()
