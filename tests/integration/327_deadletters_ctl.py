"""txmailctl deadletter: list shows the account's dead letters (newest
first), redeliver TAG queues one (the receiver gets it, the row is
redelivered), redeliver --all the rest; unknown tags and accounts fail
with exit 1, usage errors with exit 2."""
from txtest import *
from txevents import *
from txmanage import *

hook = WebhookReceiver()
A = new_account()
B = new_account()
evs = [dead_row(A["id"], url=hook.url, i=i, result="HTTP 50%d" % i)[0] for i in range(3)]
other, _ = dead_row(B["id"], url=hook.url)

rc, out, err = ctl("deadletter", "list", A["name"])
lines = out.splitlines()
eq(lines[0].split()[:2], ["TAG", "RECIPIENT"], "list: a header line")
eq([l.split()[0] for l in lines[1:]], [e["tag"] for e in reversed(evs)], "list: A's dead letters, newest first")
check("HTTP 502" in lines[1] and hook.url in lines[1], "with last result and URL")
check("3 dead letters" in err, "and a count")


def at_hook(tag):
    return any(tag in r["body"].decode() for r in list(hook.requests))


rc, out, _ = ctl("deadletter", "redeliver", A["name"], evs[0]["tag"])
eq(out.strip(), evs[0]["tag"] + " redelivered", "redeliver TAG")
wait_until(lambda: at_hook(evs[0]["tag"]), 20, "the receiver got it")
eq(sql("SELECT state FROM webhook_delivery WHERE tag=%s", evs[0]["tag"])[0][0], "redelivered", "row redelivered")
rc, _, err = ctl("deadletter", "redeliver", A["name"], evs[0]["tag"], check_rc=False)
eq((rc, "no such dead letter" in err), (1, True), "redeliver it again: no such dead letter")
rc, _, err = ctl("deadletter", "redeliver", A["name"], other["tag"], check_rc=False)
eq(rc, 1, "B's tag through account A: no such dead letter")
rc, out, err = ctl("deadletter", "redeliver", A["name"], "--all")
eq(sorted(out.split()[::2]), sorted(e["tag"] for e in evs[1:]), "redeliver --all: the other two")
check("2 redelivered" in err, "and a count")
wait_until(lambda: at_hook(evs[1]["tag"]) and at_hook(evs[2]["tag"]), 20, "the receiver got both")
eq(ctl("deadletter", "list", A["name"])[1].splitlines()[1:], [], "nothing left to list")
eq(sql("SELECT state FROM webhook_delivery WHERE tag=%s", other["tag"])[0][0], "dead", "B's untouched")
check(not at_hook(other["tag"]), "B's not posted")
rc, out, err = ctl("deadletter", "redeliver", A["name"], "--all")
check("0 redelivered" in err, "--all with none left: 0")
eq(ctl("deadletter", "list", "no-such-account", check_rc=False)[0], 1, "unknown account: exit 1")
eq(ctl("deadletter", "list", check_rc=False)[0], 2, "no account: usage, exit 2")
eq(ctl("deadletter", "redeliver", A["name"], check_rc=False)[0], 2, "no tag: usage, exit 2")
done()
