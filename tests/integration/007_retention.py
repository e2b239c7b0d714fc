"""Retention of the unpartitioned tables: `txmailctl db partitions` deletes
job rows, dead-lettered notifications and delivery records older than
txmailctl_retention (45 days, contract §10.6) and suppression entries past
their expiry; younger rows and entries in force stay."""
import uuid
from txtest import *

acct = new_account()
A = acct["id"]
OLD, NEW = "NOW(3) - INTERVAL 46 DAY", "NOW(3) - INTERVAL 44 DAY"
jobs = {"old": str(uuid.uuid4()), "new": str(uuid.uuid4())}
for age, when in (("old", OLD), ("new", NEW)):
    job = jobs[age]
    rid = job + "#00000000#00000000"
    sql("INSERT INTO job (job_id, account_id, entry, received_at, answer, mail_from, slip) "
        "VALUES (%s, %s, 'rest', " + when + ", '{}', 's@example.com', 'render,deliver')", job, A)
    sql("INSERT INTO webhook_delivery (account_id, tag, job_id, rid, url, state, attempts, first_attempt_at, "
        "last_attempt_at, last_result, notification, created_at) VALUES (%s, %s, %s, %s, 'https://h.test/', "
        "'dead', 3, " + when + ", " + when + ", 'HTTP 503', '{}', " + when + ")", A, uuid.uuid4().hex * 2, job, rid)
    sql("INSERT INTO delivery_record (rid, account_id, state, at) VALUES (%s, %s, 'sent', " + when + ")", rid, A)
sql("INSERT INTO suppression (account_id, address, type, created_at, expires_at) VALUES "
    "(%s, 'gone@example.com', 'PREVIOUSLY_BOUNCED', NOW(3) - INTERVAL 8 DAY, NOW(3) - INTERVAL 1 DAY), "
    "(%s, 'kept@example.com', 'PREVIOUSLY_BOUNCED', NOW(3) - INTERVAL 1 DAY, NOW(3) + INTERVAL 6 DAY), "
    "(%s, 'forever@example.com', 'UNSUBSCRIBED', NOW(3) - INTERVAL 400 DAY, NULL)", A, A, A)

_, out, _ = ctl("db", "partitions")
check("expired" in out and "job" in out, "the command says what it expired: %r" % out)
eq(sorted(r[0] for r in sql("SELECT job_id FROM job WHERE account_id=%s", A)), [jobs["new"]], "job rows: the old one gone")
eq([r[0] for r in sql("SELECT job_id FROM webhook_delivery WHERE account_id=%s", A)], [jobs["new"]],
   "dead letters: the old one gone")
eq([r[0] for r in sql("SELECT rid FROM delivery_record WHERE account_id=%s", A)], [jobs["new"] + "#00000000#00000000"],
   "delivery records: the old one gone")
eq(sorted(r[0] for r in sql("SELECT address FROM suppression WHERE account_id=%s", A)),
   ["forever@example.com", "kept@example.com"], "suppression: only the expired entry gone")
_, out2, _ = ctl("db", "partitions")
check("expired" not in out2, "a second run has nothing to expire: %r" % out2)
done()
