"""Poison messages do not loop forever (issue 11): every work and event
queue carries the txmail-poison policy of broker-config/definitions.json
(a delivery limit, dead-lettering to txmail.dead, at-least-once). A policy
and not queue arguments: quorum queue arguments cannot change on a live
broker, a policy can (`txmail-stack up` imports it into a running broker).

A message that crashes its handler (the testworker aborts on action
"crash", under txmail-supervise, which restarts it) is handed out at most
limit+1 times, then it is in the dead queue with the broker's reason
(x-first-death-reason "delivery_limit", x-death naming the queue), and the
restarted worker goes on serving the messages queued behind it. The test
queue gets the same policy definition with a limit of 2 (the work queues'
limit of 20 would take minutes of restart backoff)."""
import atexit
import signal
import subprocess

from txtest import *

defs = json.load(open(os.path.join(REPO, "broker-config", "definitions.json")))
pol = [p for p in defs.get("policies", []) if p["name"] == "txmail-poison"]
eq(len(pol), 1, "definitions.json has the txmail-poison policy")
pol = pol[0]
dfn = pol["definition"]
eq((dfn.get("dead-letter-exchange"), dfn.get("dead-letter-strategy")), ("txmail.dead", "at-least-once"),
   "dead-lettered to txmail.dead, at least once")
check(isinstance(dfn.get("delivery-limit"), int) and 5 <= dfn["delivery-limit"] <= 100,
      "a delivery limit (%r)" % dfn.get("delivery-limit"))

# ---- the running broker applies it to every work and event queue
pols = {p["name"]: p for p in json.loads(stack("rabbitmqctl", "-q", "list_policies", "--formatter", "json"))}
check("txmail-poison" in pols, "the broker has the policy")
got = pols["txmail-poison"]["definition"]
got = json.loads(got) if isinstance(got, str) else got
eq(got, dfn, "the broker's policy is the one of definitions.json")
out = stack("rabbitmqctl", "-q", "list_queues", "name", "policy", "--formatter", "json")
live = {q["name"]: q for q in json.loads(out)}
for name in ["scan", "securezip", "render", "spamcheck", "smime", "deliver", "notify", "followup",
             "bounce", "report", "events.recorder", "events.notify"]:
    q = live.get(name)
    check(q is not None, "queue %s exists" % name)
    eq(q["policy"], "txmail-poison", "policy of %s" % name)
for name in ["dead", "retry.1s", "events.monitor"]:
    check(live.get(name, {}).get("policy") in ("", None), "no poison policy on %s" % name)

# ---- a handler that crashes on one message
Q = "testwork"
declare_queue(Q, "txmail.work")
declare_queue("testout", "txmail.work")
test_def = dict(dfn)
test_def["delivery-limit"] = 2
stack("rabbitmqctl", "set_policy", "--apply-to", "queues", "--priority", "5",
      "t-poison-015", "^testwork$", json.dumps(test_def))
atexit.register(lambda: stack("rabbitmqctl", "clear_policy", "t-poison-015"))
drain(Q); drain("testout"); drain("dead")

rec = E["TXMAIL_STACK_DIR"] + "/testworker-poison.log"
open(rec, "w").close()
slog = E["TXMAIL_STACK_DIR"] + "/case-logs/testworker-015.log"
os.makedirs(os.path.dirname(slog), exist_ok=True)
sup = subprocess.Popen([os.path.join(REPO, "scripts", "txmail-supervise"), slog,
                        os.path.join(BIN, "txmail-testworker"), "-c", CONF,
                        "-o", "testworker_record_file=" + rec, "-o", "testworker_prefetch=1",
                        "-o", "testworker_concurrency=1"], start_new_session=True)


def stop_sup():
    if sup.poll() is None:
        sup.send_signal(signal.SIGTERM)
        sup.wait(30)


atexit.register(stop_sup)

poison = uniq("poison")
publish("txmail.work", Q, envelope(uniq("job"), [Q, "testout"], {"action": "crash", "tag": poison}))
good = [uniq("good") for _ in range(3)]
for g in good:
    publish("txmail.work", Q, envelope(g, [Q, "testout"], {"action": "ok", "tag": g}))

dead = wait_until(lambda: drain("dead", timeout=0.3), 90, "the poison message in the dead queue")
eq(len(dead), 1, "one dead letter")
props, body = dead[0]
env, _ = parse_envelope(body)
eq(env["data"]["tag"], poison, "the dead letter is the poison message, body intact")
h = props.headers or {}
eq(h.get("x-first-death-reason"), "delivery_limit", "the reason is visible: x-first-death-reason")
eq(h.get("x-first-death-queue"), Q, "x-first-death-queue")
xd = h.get("x-death") or [{}]
eq((xd[0].get("reason"), xd[0].get("queue")), ("delivery_limit", Q), "x-death names reason and queue")

crashes = [l for l in open(rec).read().splitlines() if l.startswith("crash " + poison)]
check(2 <= len(crashes) <= 3, "the handler crashed on it %d times (limit 2), not forever" % len(crashes))

outs = []


def served():
    outs.extend(parse_envelope(b)[0]["job"] for _, b in drain("testout", timeout=0.3))
    return len(outs) >= 3


wait_until(served, 60, "the messages behind the poison served")
eq(sorted(outs), sorted(good), "the restarted worker served every other message")
time.sleep(2)
eq(queue_count(Q), 0, "nothing left in the work queue")
eq(drain("dead", timeout=0.3), [], "nothing else dead-lettered")
check(sup.poll() is None, "the supervisor still runs the worker")
done()
