"""txmail-spamcheck's events at the job's webhook endpoint: the
SPAM_SCORE_CHECK notification in the shape of
samples/notification-spam-score-check.json (contract §11.4, A.4) with
content.spamscore {score, threshold, rules[{name, score, description}]}
filled (txmail decision, §11.7) and content.mime.messageId; a blocked
message's DROPPED/SPAM_DETECTED notification follows it, and the message
never reaches the sink."""
from txtest import *
from txevents import tag
from spamtest import GTUBE, HAM, SSC, send, tenant

hook = WebhookReceiver()
acct = tenant(hook=hook)
sql("UPDATE account SET tenant='Test Tenant' WHERE id=%s", acct["id"])
run = uniq("sw").lower()
SAMPLE = sample("notification-spam-score-check.json")
want_n = SAMPLE["notifications"][0]


def notes(rid, typ):
    return [(m, n) for m, n, _ in hook.notifications()
            if n["meta"]["mail"]["id"] == rid and n["meta"]["event"]["type"] == typ]


to1 = run + "-ham@example.net"
r1 = send(acct, to1, text=HAM, spam={"active": True, "threshold": 4.5})
to2 = run + "-gtube@example.net"
r2 = send(acct, to2, text="Buy now.\n" + GTUBE + "\n", spam={"active": True, "mode": "block-above"})

meta, n = wait_until(lambda: notes(r1, "SPAM_SCORE_CHECK"), 60, "the SPAM_SCORE_CHECK notification")[0]
check(set(SAMPLE["meta"].keys()) - {"referenceJob"} <= set(meta.keys()), "top-level meta: %r" % sorted(meta.keys()))
eq(sorted(n.keys()), sorted(want_n.keys()), "notification keys as the sample's")
eq(sorted(n["meta"].keys()), sorted(want_n["meta"].keys()), "notification meta keys")
ev = n["meta"]["event"]
eq((ev["phase"], ev["state"], ev["type"], ev["subType"]), SSC, "event phase/state/type/subType")
check(set(want_n["meta"]["event"].keys()) <= set(ev.keys()), "event members of the sample: %r" % sorted(ev.keys()))
eq(n["meta"]["tag"], tag(r1, *SSC), "meta.tag per §11.5")
eq(n["meta"]["mail"]["id"], r1, "meta.mail.id")
check(n["meta"]["mail"]["from"].endswith(acct["sender"] + ">"), "meta.mail.from: %r" % n["meta"]["mail"]["from"])
eq(sorted(n["content"].keys()), sorted(want_n["content"].keys()), "content: mime and spamscore")
check(n["content"]["mime"]["messageId"].startswith("<") and r1 in n["content"]["mime"]["messageId"],
      "content.mime.messageId: %r" % n["content"]["mime"]["messageId"])
sc = n["content"]["spamscore"]
eq(sorted(sc.keys()), ["rules", "score", "threshold"], "spamscore members")
eq(sc["threshold"], 4.5, "the job's threshold")
check(isinstance(sc["score"], (int, float)) and sc["score"] < 4.5, "a low score: %r" % sc["score"])
check(sc["rules"] and all(sorted(r.keys()) == ["description", "name", "score"] for r in sc["rules"]),
      "rules [{name, score, description}]: %r" % sc["rules"])
sink_wait(to1)

_, n2 = wait_until(lambda: notes(r2, "SPAM_SCORE_CHECK"), 60, "GTUBE's SPAM_SCORE_CHECK")[0]
check(n2["content"]["spamscore"]["score"] >= 999, "GTUBE scored %r" % n2["content"]["spamscore"]["score"])
_, d = wait_until(lambda: notes(r2, "DROPPED"), 60, "GTUBE's DROPPED notification")[0]
eq((d["meta"]["event"]["phase"], d["meta"]["event"]["state"], d["meta"]["event"]["subType"]),
   ("PROCESS", "FINISHED", "SPAM_DETECTED"), "DROPPED/SPAM_DETECTED posted")
time.sleep(2)
eq(sink_for(to2), [], "the blocked message is not at the sink")
eq(len(notes(r1, "SPAM_SCORE_CHECK")), 1, "one SPAM_SCORE_CHECK notification")
done()
