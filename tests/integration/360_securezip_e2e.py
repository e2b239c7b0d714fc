"""Secure Document Handling end to end (contract §16.3), REST -> scan ->
securezip -> render -> deliver -> the sink, with the sample
secure-document-fragment.json's shape: the main message has the ZIP and the
unflagged attachment (the flagged one only inside the ZIP); the password
mail arrives after the main message is DELIVERED; its password opens the
ZIP with 7zz and bsdtar (AES-256 entries, content as submitted) and a wrong
one does not; two blocks have two passwords; the rules of each password
type hold; followUpJobs lists the password jobs, whose rows and events are
recorded; the password is in no log. Needs txmail-scan:
scan is always on the slip before securezip."""
from dlvtest import Events
from sztest import *
import txlookup

need_scan()
ev = Events()
acct = sdh_account()
a1, a2 = uniq("sz1") + "@example.net", uniq("sz2") + "@example.net"
secret = ("top secret content " + uniq("c") + "\n").encode()
req = sdh_request(acct, [[a1], [a2]], flagged=secret, subject="Your documents Ünïcode")
job = submit(acct, req)
rids = [job + "#00000000#00000000", job + "#00000001#00000001"]  # address index counts over the job

# ------------------------------------------------------- the main messages
passwords = []
for a, rid in zip((a1, a2), rids):
    wait_until(lambda: len(sink_for(a)) >= 2, 90, "main message and password mail for " + a)
    main, pw = split_mails(a)
    eq((len(main), len(pw)), (1, 1), "one main message and one password mail for " + a)
    (mmeta, m), (pmeta, p) = main[0], pw[0]
    names = sorted(x.get_filename() for x in m.iter_attachments())
    eq(names, ["name2.pdf", "test.zip"], "the main message has the ZIP and the unflagged attachment")
    check(all(secret not in r and base64.b64encode(secret) not in r for _, r in sink_for(a)),
          "the flagged document never travels unencrypted")
    eq([x.get_content() for x in m.iter_attachments() if x.get_filename() == "name2.pdf"], [b"name"],
       "the unflagged attachment as submitted")
    zdata = zip_of(m, "test.zip")
    # ---- order: the password mail after the main message, by arrival and by event ts
    check(arrival(pmeta) > arrival(mmeta), "the password mail arrives after the main message")
    dl = ev.wait(rid, "DELIVERED", "OK")[0]
    pwjob = pw_job_id(rid)
    pwrid = pwjob + "#00000000#00000000"
    pdl = ev.wait(pwrid, "DELIVERED", "OK", timeout=60)[0]
    pst = ev.wait(pwrid, "STARTED", "PROCESSING_STARTED", timeout=60)[0]
    check(dl["ts"] <= pst["ts"] <= pdl["ts"],
          "events: main DELIVERED %s <= password job STARTED %s <= DELIVERED %s" % (dl["ts"], pst["ts"], pdl["ts"]))
    # ---- the password mail
    eq(str(p["Subject"]), "Password for: Your documents Ünïcode", "subject = prefix + ' ' + original subject")
    eq(p["To"].addresses[0].addr_spec, a, "the password mail goes to the same address")
    eq(p["From"].addresses[0].addr_spec, "sender@" + acct["domain"], "from the original sender")
    eq(list(p.iter_attachments()), [], "the password mail has no attachment")
    pw_ = password_of(p)
    check("test.zip" in p.get_body(("plain",)).get_content(), "the account's text names the ZIP file")
    passwords.append(pw_)
    eq(len(pw_), 10, "passwordType high: 10 characters")
    check(set(pw_) <= ALPHABET, "only the contract's characters: " + pw_)
    check(any(c.isupper() for c in pw_) and any(c.islower() for c in pw_) and any(c.isdigit() for c in pw_),
          "upper, lower and digit")
    # ---- the ZIP with the real tools
    z = ZipFile(zdata)
    check(z.test_7zz(pw_), "7zz t with the mailed password")
    check(not z.test_7zz(pw_[:-1] + ("A" if pw_[-1] != "A" else "B")), "7zz t with a wrong password fails")
    slt = z.list_slt(pw_)
    method = [l for l in slt.splitlines() if l.startswith("Method = ")]
    check("Encrypted = +" in slt and len(method) == 1 and "AES-256" in method[0],
          "7zz l -slt: the entry is encrypted, %s" % method)
    eq(z.extract_7zz(pw_), {"name1.txt": secret}, "7zz x: name1.txt with the submitted content")
    eq(z.extract_bsdtar(pw_), {"name1.txt": secret}, "bsdtar --passphrase: the same")
    check(z.extract_bsdtar("wrong" + pw_) != {"name1.txt": secret}, "bsdtar with a wrong passphrase gets nothing")
    z.close()
check(passwords[0] != passwords[1], "two blocks, two passwords")

# ------------------------------------------------ follow-up jobs, rows, events
pwjobs = sorted(pw_job_id(r) for r in rids)
eq(followups(job), pwjobs, "job rows of the password mails have parent_job_id = the job")
for pj in pwjobs:
    row = sql("SELECT entry, http_status, slip, recipients, account_id, mail_from FROM job WHERE job_id=%s", pj)[0]
    eq(row[:5], ("rest", 200, "render,deliver", 1, acct["id"]), "the password job's acceptance record")
    txlookup.settled(pj, 1)
    eq([e["type"] for e in ev.of(pj + "#00000000#00000000") if e["state"] == "FINISHED"], ["DELIVERED"],
       "the password job has its own final DELIVERED event")
st, _, _, doc = txlookup.get(acct["client"], txlookup.job_path(job))
eq(st, 200, "GET the job")
eq(sorted(doc["meta"]["followUpJobs"]), pwjobs, "followUpJobs lists the password jobs")
st, _, _, pdoc = txlookup.get(acct["client"], txlookup.job_path(pwjobs[0]))
eq(st, 200, "GET a password job")
eq(pdoc["meta"]["counts"]["delivered"], 1, "the password job reports its delivery")

# ------------------------------------------------ password types, no logs
for typ, n in (("medium", 8), ("very_high", 15)):
    a = uniq("sz" + typ) + "@example.net"
    submit(acct, sdh_request(acct, [[a]], pwtype=typ))
    wait_until(lambda: split_mails(a)[1], 90, "password mail for " + typ)
    pw_ = password_of(split_mails(a)[1][0][1])
    eq(len(pw_), n, "passwordType %s: %d characters" % (typ, n))
    check(set(pw_) <= ALPHABET, "alphabet (%s)" % typ)
    passwords.append(pw_)
logs = stack_logs()
for pw_ in passwords:
    check(pw_.encode() not in logs, "the password is in no log of the stack")
done()
