"""txmail-rest: every request sample of ../shared/api/samples answered as the
contract says (§5.1 shape, ids of §5.2), and the job each one publishes: the
envelope in the first stage's queue (slip, ids, normalized data) and the
acceptance record with the answer byte for byte."""
from txtest import *
from txrest import *

setup_queues()
demo_id = sql("SELECT id FROM account WHERE name=%s", E["TXMAIL_DEMO_ACCOUNT"])[0][0]
c = Client()


def shape(x):
    if isinstance(x, dict):
        return {k: shape(v) for k, v in x.items()}
    if isinstance(x, list):
        return [shape(x[0])] if x else []
    return type(x).__name__


def accepted(got, what):
    st, hdrs, data, doc = got
    eq(st, 200, what + ": status")
    eq(hdrs.get("content-type"), "application/json", what + ": Content-Type")
    job_id = doc["meta"]["jobId"]
    check(is_uuid(job_id) and job_id[14] == "7", what + ": jobId is a UUIDv7")
    eq(hdrs.get("location"), "/email/v2/jobs/" + job_id, what + ": Location")
    check(is_ts(doc["meta"]["receivedTs"]), what + ": receivedTs is ISO-8601 UTC with ms")
    eq(doc["meta"]["state"]["type"], "ACCEPTED", what + ": state.type")
    eq(doc["meta"]["state"]["phase"], "PRE_PROCESS", what + ": state.phase")
    row = job_row(job_id)
    check(row is not None, what + ": acceptance record written")
    eq(row[2].encode(), data, what + ": the record holds the answer byte for byte")
    return job_id, doc


def published(job_id, queue=RENDER_Q):
    jobs = wait_until(lambda: (lambda j: j if job_id in j else None)(jobs_in(queue)), 10, "job %s in %s" % (job_id, queue))
    env, n = jobs[job_id]
    eq(n, 1, "job published exactly once")
    return env


# ---- sample-jobrequest.json: every element, FULL, three ids
req = sample("sample-jobrequest.json")
job_id, doc = accepted(c.post(req), "sample-jobrequest")
eq(doc["meta"]["state"]["subType"], "FULL", "sample-jobrequest: FULL")
full = sample("response-accepted-full.json")
eq(shape(doc["meta"]), shape(full["meta"]), "answer meta has the published shape")
rc = doc["content"]["recipients"]
eq(len(rc), 1, "one block in the answer")
eq([(a["id"], a["email"]) for a in rc[0]["mail"]["to"]], [(job_id + "#00000000#00000000", "to_friendly<to@example.com>")], "to id")
eq([(a["id"], a["email"]) for a in rc[0]["mail"]["cc"]], [(job_id + "#00000000#00000001", "cc_friendly<cc@example.com>")], "cc id")
eq([(a["id"], a["email"]) for a in rc[0]["mail"]["bcc"]], [(job_id + "#00000000#00000002", "bcc_friendly<bcc@example.com>")], "bcc id")
check(all("validationResult" not in a for k in ("to", "cc", "bcc") for a in rc[0]["mail"][k]), "no validationResult when FULL")
env = published(job_id)
eq(env["type"], "job", "envelope type")
eq(env["slip"], ["render", "deliver"], "slip")
eq(env["account"], demo_id, "envelope account")
eq(env["job"], job_id, "envelope job id")
eq(env["attempt"], 0, "attempt 0")
d = env["data"]
eq(d["entry"], "rest", "data.entry")
eq(d["receivedTs"], doc["meta"]["receivedTs"], "data.receivedTs = answer receivedTs")
eq(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(env["created"] / 1000)) + ".%03dZ" % (env["created"] % 1000),
   doc["meta"]["receivedTs"], "envelope created = receivedTs")
eq(d["account"]["name"], E["TXMAIL_DEMO_ACCOUNT"], "data.account.name")
eq(d["senderDomain"]["domain"], "example.com", "data.senderDomain")
eq((d["referenceJob"], d["costCenter"], d["campaignId"]),
   ("rcpt-632cdc56-6480-406b-8faf-5a7e70876d0c", "cost-center", "zOsVEmBBV3TYzTPe"), "job references")
eq(d["subject"], {"text": "subject", "template": False, "charset": "UTF-8", "cte": "base64"}, "data.subject")
eq(d["body"]["text"], "<html><body>hello world</body></html>", "quoted-printable plain HTML used as is")
eq(d["alternative"]["text"], "plain alternative", "base64-declared plain text used as plain text (§4.6)")
eq(d["attachments"], [{"name": "name.pdf", "contentType": "application/pdf", "contentId": None,
                       "secureDocument": False, "data": "bmFtZQ=="}], "data.attachments")
eq(d["mail"]["from"], {"email": "smpt_from_friendly<smtp-from@example.com>", "addr": "smtp-from@example.com",
                       "display": "smpt_from_friendly"}, "data.mail.from")
eq(d["mail"]["mimeFrom"]["addr"], "mime-from@example.com", "data.mail.mimeFrom")
b = d["blocks"][0]
eq(b["priority"], "HIGH", "block priority overrides job NORMAL")
eq(b["replyTo"]["addr"], "reply-to@example.com", "block replyTo overrides job replyTo")
eq(b["inReplyTo"], "in-reply-to-rcpt@example.com", "block inReplyTo")
eq(b["listUnsubscribe"], "custom_email_address", "listUnsubscribe kept (render ignores it)")
eq(sorted(b["xHeaders"]), ["x-job-header1", "x-job-header2", "x-rcpt-header1", "x-rcpt-header2"], "xHeaders merged")
eq(b["xHeaders"]["x-rcpt-header2"], "opgjivudriojge4üo", "UTF-8 xHeader value")
eq((b["openTracking"], b["linkTracking"]), (True, True), "tracking switches")
eq(b["reference"], "rcpt-632cdc56-6480-406b-8faf-5a7e70876d0c", "block reference")
eq([(a["rid"], a["addr"], a["display"], a["drop"]) for a in b["to"] + b["cc"] + b["bcc"]],
   [(job_id + "#00000000#00000000", "to@example.com", "to_friendly", None),
    (job_id + "#00000000#00000001", "cc@example.com", "cc_friendly", None),
    (job_id + "#00000000#00000002", "bcc@example.com", "bcc_friendly", None)], "data addresses")
check("notification" not in d, "the endpoint is not in the broker message")
row = job_row(job_id)
eq(row[3], "render,deliver", "job row slip")
eq(row[4], 3, "job row recipients")
n = json.loads(row[6])
eq(n["url"], "http://receiver.mail-notifications.com", "job row notification url")
check(n["authentication"]["password"].startswith("v1:") and "dfghoxjuvnzeso374i" not in row[6],
      "notification password encrypted at rest")
eq(n["headers"]["notification-header2"], "fetwetrsavrgz", "notification headers kept")

# ---- template-jobrequest.json: templates, trimmed address, listUnsubscribe ""
job_id, doc = accepted(c.post(sample("template-jobrequest.json")), "template-jobrequest")
eq(doc["meta"]["state"]["subType"], "FULL", "template-jobrequest: FULL")
eq(doc["content"]["recipients"][0]["mail"]["to"][0]["email"], "to_friendly<to@example.com>", "leading blank trimmed")
d = published(job_id)["data"]
eq(d["subject"]["template"], True, "subject is a template")
eq(d["subject"]["text"], "Send Job - POST - template basic ${name}", "template source kept")
eq(d["body"]["cte"], "base64", "body cte")
eq(d["blocks"][0]["personalization"], {"name": "Ignaz"}, "personalization")
eq(d["blocks"][0]["listUnsubscribe"], None, "listUnsubscribe \"\" is absent")

# ---- recipients fragments
for name, ids in (("recipients-case1-shared-to.json", [("00000000", "00000000"), ("00000000", "00000001")]),
                  ("recipients-case2-separate-blocks.json", [("00000000", "00000000"), ("00000001", "00000001")])):
    req = {"subject": {"content": "s"}, "mail": {"from": {"email": "s@example.com"}}}
    req.update(sample(name))
    job_id, doc = accepted(c.post(req), name)
    got = [a["id"] for blk in doc["content"]["recipients"] for a in blk["mail"]["to"]]
    eq(got, ["%s#%s#%s" % (job_id, x, y) for x, y in ids], name + ": ids")
    d = published(job_id)["data"]
    eq([[a["rid"] for a in blk["to"]] for blk in d["blocks"]],
       [[a["id"] for a in blk["mail"]["to"]] for blk in doc["content"]["recipients"]], name + ": same ids in the job")

# ---- response-accepted-part.json: PART with INVALID_FORMAT and FORBIDDEN_RECIPIENT
acct = new_account(settings={"features": {"tracking": True, "templates": True}, "forbiddenRecipients": ["admin"]},
                   domain="part.example.com")
pc = Client(user=acct["user"], password=acct["password"])
req = base_request("part.example.com")
req["recipients"] = [{"mail": {"to": [{"email": "john.doe@example.com"}, {"email": "foo@bar"}, {"email": "admin@example.com"}]}}]
job_id, doc = accepted(pc.post(req), "PART")
eq(doc["meta"]["state"]["subType"], "PART", "subType PART")
part = sample("response-accepted-part.json")
eq(shape(doc), shape(part), "answer has the published PART shape")
to = doc["content"]["recipients"][0]["mail"]["to"]
eq([a.get("validationResult") for a in to],
   [None, {"classifier": "INVALID_FORMAT"},
    {"classifier": "FORBIDDEN_RECIPIENT", "message": "Reason: Local part forbidden by config"}], "validationResults")
d = published(job_id)["data"]
drops = [a["drop"] for a in d["blocks"][0]["to"]]
eq(drops[0], None, "valid address not dropped")
eq(drops[1]["subType"], "INVALID_ADDRESS", "invalid syntax: INVALID_ADDRESS drop")
eq(drops[2]["subType"], "FORBIDDEN_RECIPIENT", "forbidden local part: FORBIDDEN_RECIPIENT drop")

# ---- suppression list: PREVIOUSLY_BOUNCED and SUPPRESSED with their descriptions
sql("INSERT INTO suppression (account_id, address, type, created_at, expires_at, reason) VALUES "
    "(%s, 'bounced@example.org', 'PREVIOUSLY_BOUNCED', '2025-05-10 10:00:00.000', NOW(3) + INTERVAL 1 DAY, '550 5.1.1 user unknown'),"
    "(%s, 'manual@example.org', 'MANUAL', '2025-05-11 10:00:00.000', NULL, NULL),"
    "(%s, 'expired@example.org', 'TEMPORARY_SUPPRESSED', '2025-05-11 10:00:00.000', NOW(3) - INTERVAL 1 SECOND, 'full')",
    acct["id"], acct["id"], acct["id"])
req["recipients"] = [{"mail": {"to": [{"email": "Bounced@Example.org"}], "cc": [{"email": "manual@example.org"}],
                               "bcc": [{"email": "expired@example.org"}]}}]
job_id, doc = accepted(pc.post(req), "suppressed")
m = doc["content"]["recipients"][0]["mail"]
eq(m["to"][0]["validationResult"], {"classifier": "PREVIOUSLY_BOUNCED", "message": "Reason: Previously bounced"}, "PREVIOUSLY_BOUNCED")
eq(m["cc"][0]["validationResult"], {"classifier": "SUPPRESSED", "message": "Reason: Suppressed"}, "SUPPRESSED")
check("validationResult" not in m["bcc"][0], "an expired entry does not block")
b = published(job_id)["data"]["blocks"][0]
eq(b["to"][0]["drop"]["description"], 'ts="2025-05-10T10:00:00.000Z", reason="550 5.1.1 user unknown"', "bounce description")
eq(b["cc"][0]["drop"]["description"], 'type="MANUAL", ts="2025-05-11T10:00:00.000Z", reason=""', "suppressed description")
eq(b["to"][0]["drop"]["suppression"], {"type": "PREVIOUSLY_BOUNCED", "address": "bounced@example.org"}, "suppression entry named for the expiry reset")

# ---- secure-document-fragment.json: alias of job.options.secureDocument
frag = sample("secure-document-fragment.json")
req = base_request("part.example.com")
req.update(frag)
expect_reject(pc.post(req), 403, "FORBIDDEN_BY_CONFIG", "Unsupported value for secureDocument.active",
              "secureDocument on an account without the feature")
sd = new_account(settings={"features": {"secureDocument": True, "antivirus": True}}, domain="sd.example.com")
req = base_request("sd.example.com")
req.update(frag)
noscan = PrivateRest(rest_stages="render,deliver")
rej = expect_reject(noscan.client(user=sd["user"], password=sd["password"]).post(req), 403, "FORBIDDEN_BY_CONFIG",
                    "Unsupported value for secureDocument.active", "secureDocument where the installation runs no scan stage")
check(job_row(rej["meta"]["jobId"]) is None and not jobs_in(SCAN_Q, 0.3, sd["id"]), "a rejection records and publishes nothing")
noscan.stop()
priv = PrivateRest(rest_stages="scan,securezip,render,deliver")
pr = priv.client(user=sd["user"], password=sd["password"])
job_id, doc = accepted(pr.post(req), "secureDocument alias")
env = published(job_id, SCAN_Q)
eq(env["slip"], ["scan", "securezip", "render", "deliver"], "slip with scan and securezip")
o = env["data"]["options"]
eq(o["secureDocument"], {"active": True, "filename": "test", "subjectPrefix": "Password for: <Original email subject - trimmed>",
                         "passwordType": "high"}, "secureDocument settings from the alias")
eq(o["antivirus"]["active"], True, "Secure Document Handling implies the scan")
eq([a["secureDocument"] for a in env["data"]["attachments"]], [True, False], "attachment flags (\"true\" as a string)")
eq([a["contentId"] for a in env["data"]["attachments"]], ["xkQleA0s", "777"], "contentIds")
priv.stop()

# ---- published rejection samples: shapes
bad = c.post(raw=b'{"subject": {"content": "x"}, "recipients": [', body=None)
doc = expect_reject(bad, 400, "INVALID_JSON_SYNTAX")
eq(shape(doc), shape(sample("response-rejected-invalid-json-syntax.json")), "INVALID_JSON_SYNTAX has the published shape")
check(" at line 1 column " in doc["meta"]["state"]["description"] and " path $" in doc["meta"]["state"]["description"],
      "parser message names line, column and path: %s" % doc["meta"]["state"]["description"])
req = base_request("part.example.com")
req["job"] = {"options": {"traceRecover": {"active": True}}}
doc = expect_reject(pc.post(req), 403, "FORBIDDEN_BY_CONFIG", "Unsupported value for job.options.traceRecover.active")
eq(shape(doc), shape(sample("response-rejected-forbidden-by-config.json")), "FORBIDDEN_BY_CONFIG has the published shape")
check(not jobs_in(RENDER_Q, 0.3, demo_id) and not jobs_in(SCAN_Q, 0.3, acct["id"]), "rejected requests published nothing")
done()
