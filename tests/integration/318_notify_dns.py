"""txmail-notify resolves endpoint names through dns_servers (the stack's
dnsmasq), never through the system resolver: a test name resolves and gets
its POST; a real-world name the stack does not answer (the sample
JobRequest's receiver.mail-notifications.com) is never looked up outside and
never posted to - the attempt fails with "connect error: cannot resolve"."""
from txtest import *
from txevents import *

D = E["TXMAIL_STACK_DIR"]
hook = WebhookReceiver()
acct = new_account()
A = acct["id"]
evs = {}
for name, url in (("test", "http://txmail.test:%d/hook" % hook.port),
                  ("hosts", "http://localhost:%d/hook" % hook.port),
                  ("outside", "http://receiver.mail-notifications.com/hook")):
    job, received = insert_job(A, notification={"url": url})
    evs[name] = event(A, job, rid(job), received, "DELIVER", "FINISHED", "DELIVERED", "OK",
                      email="%s@example.com" % name, frm="s@example.com")
publish_events(list(evs.values()))
wait_until(lambda: len(hook.requests) >= 2, 15, "the POSTs to txmail.test and localhost")
eq(sorted(json.loads(r["body"])["notifications"][0]["meta"]["tag"] for r in hook.requests),
   sorted([evs["test"]["tag"], evs["hosts"]["tag"]]), "a name of the stack's DNS and /etc/hosts resolve")
logp = D + "/log/notify-1.log"
wait_until(lambda: "%s: tag=%s" % (evs["outside"]["rid"], evs["outside"]["tag"][:16]) in open(logp).read(), 15,
           "the failed attempt logged")
line = [l for l in open(logp).read().splitlines() if evs["outside"]["tag"][:16] in l][-1]
check("status=deferred (connect error: cannot resolve receiver.mail-notifications.com" in line,
      "the outside name is not resolved: %s" % line[-140:])
done()
