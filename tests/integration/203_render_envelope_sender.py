"""txmail-render: the envelope sender (contract §10.3) and the Message-ID
domain (§8.2). A bounce domain -> a VERP MAIL FROM per address (57
lowercase letters and digits, decoded independently here with the master
key: the recipient id and an HMAC tag); an envelope_rewrite mapping (exact,
case-insensitive) wins over the bounce domain and is reported as
rewriteFrom; otherwise the bare from. Message-ID uses the sender domain's
message_id_domain, else the installation default."""
from txtest import *
from rendertest import *

cap = Capture("sender")
acct = account_with_domain(bounce_domain="bounces.example.net", message_id_domain="mid.example.net")


def job_for(frm, n=2):
    job = new_job()
    r = {"subject": {"content": "s"}, "mail": {"from": {"email": frm}},
         "recipients": [{"mail": {"to": [{"email": "a%d@example.org" % i} for i in range(n)]}}]}
    submit(acct, job, rest_data(acct, r, job))
    return job


# VERP
job = job_for("Shop <shop@%s>" % acct["domain"], 3)
msgs = cap.wait_messages(job, 3)
locals_seen = set()
for env, raw in msgs:
    mf = env["data"]["mailFrom"]
    local, _, dom = mf.partition("@")
    eq(dom, "bounces.example.net", "VERP address on the bounce domain")
    check(re.fullmatch(r"[a-z0-9]{57}", local) is not None, "local part: 57 lowercase letters and digits")
    eq(verp_decode(local), env["rid"], "the local part decodes to the recipient id (HMAC verified)")
    eq(verp_decode(local.upper()), env["rid"], "and survives case folding")
    forged = local[:-2] + ("a" if local[-2] != "a" else "b") + local[-1]
    eq(verp_decode(forged), None, "a changed character does not verify")
    locals_seen.add(local)
    eq(env["data"]["rewriteFrom"], None, "not rewritten")
    eq(parse(raw)["Message-ID"], "<%s@mid.example.net>" % env["rid"], "Message-ID on the domain's message_id_domain")
    eq(env["data"]["messageId"], "<%s@mid.example.net>" % env["rid"], "messageId in the envelope")
    check(mf.encode() not in raw, "the VERP address is not in the message")
eq(len(locals_seen), 3, "one VERP address per recipient id")

# rewrite mapping (case-insensitive on the bare from) beats the bounce domain
sql("INSERT INTO envelope_rewrite (account_id, from_addr, rewrite_from) VALUES (%s, %s, %s)",
    acct["id"], "news@%s" % acct["domain"], "bounce-news@rewrite.example.com")
time.sleep(2.5)  # the stack's render reads rewrites again after 2 s
job = job_for("News <NEWS@%s>" % acct["domain"], 1)
env, raw = cap.wait_messages(job, 1)[0]
eq(env["data"]["mailFrom"], "bounce-news@rewrite.example.com", "MAIL FROM: the mapped rewriteFrom")
eq(env["data"]["rewriteFrom"], "bounce-news@rewrite.example.com", "rewriteFrom in the envelope")
eq(str(parse(raw)["From"]), "News <NEWS@%s>" % acct["domain"], "the From: header is unchanged")
evs = cap.wait_events(job, lambda e: any(x.get("subType") == "PROCESSING_FINISHED" for x in e))
fin = [e for e in evs if e.get("subType") == "PROCESSING_FINISHED"][0]
eq(fin["mail"]["rewriteFrom"], "bounce-news@rewrite.example.com", "events carry mail.rewriteFrom")
eq(fin["mail"]["from"], "News <NEWS@%s>" % acct["domain"], "events carry the submitted from")

# no bounce domain, no mapping: the bare from; default Message-ID domain
plain = account_with_domain(publish=False)
job = new_job()
r = {"subject": {"content": "s"}, "mail": {"from": {"email": "Shop <Shop@%s>" % plain["domain"]}},
     "recipients": [{"mail": {"to": [{"email": "x@example.org"}]}}]}
submit(plain, job, rest_data(plain, r, job))
env, raw = cap.wait_messages(job, 1)[0]
eq(env["data"]["mailFrom"], "Shop@%s" % plain["domain"], "MAIL FROM: the bare from")
eq(parse(raw)["Message-ID"], "<%s@txmail.test>" % env["rid"], "Message-ID on message_id_domain of the installation")
cap.delete()
done()
