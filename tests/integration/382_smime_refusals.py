"""Message Signing refusals over the real REST API and SMTP (contract §16.3,
§16.5): Secure Document Handling together with Message Signing -> 400
INVALID_VALUE "Invalid value for job.options.messageSigning.active"; a sender
domain with the Relay Service -> 403 FORBIDDEN_BY_CONFIG "Unsupported value
for job.options.messageSigning.active", and over SMTP 550 5.7.1
Unsupported value for X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE. The same
requests without signing are accepted (controls); a refusal records no job
and nothing reaches the sink."""
from txtest import *
from smimetest import *
from smtpdtest import Raw, transaction
import txrest

acct = signing_account(relay_host="127.0.0.1:2", secureDocument=True, antivirus=True)
c = txrest.Client(user=acct["user"], password=acct["password"])


def req(domain, rcpt, options):
    return {"subject": {"content": "x"}, "body": {"contentType": "text/plain", "content": "x"},
            "mail": {"from": {"email": "s@" + domain}}, "job": {"options": options},
            "recipients": [{"mail": {"to": [{"email": rcpt}]}}]}


def job_rows(job_id):
    return 0 if txrest.job_row(job_id) is None else 1


# ---------------------------------------------------------------- SDH + signing
r1 = uniq("sd") + "@example.test"
both = {"secureDocument": {"active": True}, "messageSigning": {"active": True}}
doc = txrest.expect_reject(c.post(req(acct["domain"], r1, both)), 400, "INVALID_VALUE",
                           "Invalid value for job.options.messageSigning.active", "SDH + message signing")
eq(job_rows(doc["meta"]["jobId"]), 0, "SDH + signing: no job recorded")
st, _, data, _ = c.post(req(acct["domain"], uniq("sd") + "@example.test", {"messageSigning": {"active": True}}))
eq(st, 200, "signing alone is accepted (control): %s" % data[:160])

# ---------------------------------------------------------------- relay domain + signing (REST)
r2 = uniq("rl") + "@example.test"
doc = txrest.expect_reject(c.post(req(acct["relay_domain"], r2, {"messageSigning": {"active": True}})), 403,
                           "FORBIDDEN_BY_CONFIG", "Unsupported value for job.options.messageSigning.active",
                           "relay sender domain + message signing")
eq(job_rows(doc["meta"]["jobId"]), 0, "relay + signing: no job recorded")
st, _, data, _ = c.post(req(acct["relay_domain"], uniq("rl") + "@example.test", {"messageSigning": {"active": False}}))
eq(st, 200, "the relay domain without signing is accepted (control): %s" % data[:160])
# the account default: messageSigning on by default for the account, relay domain -> refused too
dflt = new_account(settings={"features": {"messageSigning": True}, "defaults": {"messageSigning": True}})
rd = uniq("relay") + ".test"
ctl("domain", "add", dflt["name"], rd, "--relay-host", "127.0.0.1:2")
dc = txrest.Client(user=dflt["user"], password=dflt["password"])
txrest.expect_reject(dc.post({"subject": {"content": "x"}, "mail": {"from": {"email": "s@" + rd}},
                              "recipients": [{"mail": {"to": [{"email": r2}]}}]}), 403, "FORBIDDEN_BY_CONFIG",
                     "Unsupported value for job.options.messageSigning.active",
                     "relay domain + signing by the account default")


# ---------------------------------------------------------------- relay domain + signing (SMTP)
def smtp(sender, rcpt, header):
    msg = ("From: %s\r\nTo: %s\r\nSubject: x\r\n%s\r\nbody\r\n" % (sender, rcpt, header)).encode()
    s = Raw()
    s.login(acct["user"], acct["password"])
    res = transaction(s, sender, [rcpt], msg)
    s.cmd("QUIT")
    s.close()
    return res[-1]


r3 = uniq("sr") + "@example.test"
code, text = smtp("s@" + acct["relay_domain"], r3, "X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE: true\r\n")
eq(code, 550, "SMTP: relay domain + signing refused")
eq(text.replace("\r\n", " ").strip(), "550 5.7.1 Unsupported value for X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE",
   "SMTP refusal text")
code, text = smtp("s@" + acct["relay_domain"], uniq("sr") + "@example.test",
                  "X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE: false\r\n")
eq(code, 250, "SMTP: the relay domain without signing is accepted (control): %s" % text)
code, text = smtp("s@" + acct["domain"], uniq("sr") + "@example.test", "X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE: true\r\n")
eq(code, 250, "SMTP: signing for a domain without relay is accepted (control): %s" % text)

time.sleep(2)
for r in (r1, r2, r3):
    eq(sink_for(r), [], "nothing at the sink for %s" % r)
done()
