"""Send one real message through the local stack and show where it went.

REST (txmail-rest) -> scan (ClamAV + YARA) -> render (MIME, DKIM, Trace & Recover
copy) -> spamcheck (spamd) -> smime (S/MIME signature, DKIM again) -> deliver
(SMTP) -> the local sink, then the events the recorder wrote to MariaDB."""
import base64
import glob
import json
import os
import ssl
import sys
import time
import urllib.request

E = os.environ
rcpt = "demo-%d@example.test" % int(time.time())
job = {
    "subject": {"content": "Hello from txmail"},
    "body": {"contentType": "text/html",
             "content": "<html><body><h1>It works</h1><p>This message went REST &rarr; RabbitMQ &rarr; "
                        "render &rarr; deliver &rarr; SMTP.</p></body></html>"},
    "alternative": {"content": "It works: REST -> RabbitMQ -> render -> deliver -> SMTP."},
    "recipients": [{"mail": {"to": [{"email": "Demo Recipient <%s>" % rcpt}]}}],
    "mail": {"from": {"email": "txmail demo <demo@%s>" % E["TXMAIL_DEMO_DOMAIN"]}},
    # every content-security stage the demo account may use (contract §16);
    # Secure Document Handling cannot be combined with signing: see README
    "job": {"options": {"antivirus": {"active": True, "scope": "all"},
                        "spamCheck": {"active": True, "mode": "score-only"},
                        "traceRecover": {"active": True},
                        "messageSigning": {"active": True}}},
}
auth = base64.b64encode(("%s:%s" % (E["TXMAIL_DEMO_USER"], E["TXMAIL_DEMO_PASSWORD"])).encode()).decode()
req = urllib.request.Request(E["TXMAIL_REST_URL"] + "/email/v2/jobs", data=json.dumps(job).encode(),
                             headers={"Content-Type": "application/json", "Authorization": "Basic " + auth})
ctx = ssl.create_default_context(cafile=E["TXMAIL_TLS_CA"])
with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
    answer = json.loads(r.read())
job_id = answer["meta"]["jobId"]
print("\nPOST %s/email/v2/jobs -> %s %s, jobId %s" % (E["TXMAIL_REST_URL"], r.status,
                                                     answer["meta"]["state"]["subType"], job_id))
found = None
for _ in range(300):
    for meta_path in glob.glob(os.path.join(E["TXMAIL_SINK_DIR"], "*.json")):
        with open(meta_path) as f:
            if rcpt in json.load(f).get("rcptTo", []):
                found = meta_path[:-5] + ".eml"
    if found:
        break
    time.sleep(0.1)
if not found:
    sys.exit("the message did not arrive at the sink within 30 s; see var/stack/log/")
print("delivered to the local sink: %s" % found)
with open(found, "rb") as f:
    head = f.read().split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
for line in head.split("\r\n"):
    if line.split(":", 1)[0].lower() in ("from", "to", "subject", "message-id", "date", "content-type") or \
            line.lower().startswith("dkim-signature"):
        print("   " + (line if len(line) < 110 else line[:107] + "..."))
time.sleep(1.5)
try:
    import pymysql
    c = pymysql.connect(unix_socket=E["TXMAIL_DB_SOCKET"], user=E["TXMAIL_DB_USER"],
                        password=E["TXMAIL_DB_PASSWORD"], database=E["TXMAIL_DB_NAME"])
    with c.cursor() as cur:
        cur.execute("SELECT ts, phase, state, type, subtype, COALESCE(description, '') FROM event "
                    "WHERE job_id = %s ORDER BY ts, seq", (job_id,))
        print("events recorded in MariaDB:")
        for row in cur.fetchall():
            print("   %s %s/%s/%s/%s %s" % (row[0], row[1], row[2], row[3], row[4], row[5][:80]))
    c.close()
except Exception as e:  # noqa: BLE001
    print("(cannot read the events: %s)" % e)
# the job as the API reports it: GET on the answer's Location (contract §12.1)
loc = r.headers.get("Location") or "/email/v2/jobs/" + job_id
for _ in range(50):
    get = urllib.request.Request(E["TXMAIL_REST_URL"] + loc, headers={"Authorization": "Basic " + auth})
    with urllib.request.urlopen(get, context=ctx, timeout=30) as g:
        status = json.loads(g.read())
    last = status["content"]["recipients"][0]["mail"]["to"][0].get("lastEvent") or {}
    if last.get("type") == "DELIVERED":
        break
    time.sleep(0.2)
print("GET %s -> %s/%s/%s, counts %s" % (loc, last.get("phase"), last.get("type"), last.get("subType"),
                                        json.dumps(status["meta"]["counts"])))
print("\nMore: eval \"$(scripts/txmail-stack env)\"; build/bin/txmailctl -c $TXMAIL_CONF account show demo")
