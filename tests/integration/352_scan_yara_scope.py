"""txmail-scan: the second engine and the scope (contract §16.1):
- a YARA-only find: an attachment with the project's YARA test marker,
  which no ClamAV signature of conf/clamav matches (checked with
  clamscan on the same directory): VIRUS_DETECTED, engine yara only;
- scope: EICAR in the body passes with scope "attachments" (delivered),
  is caught with scope "body" and "all" ("INFECTED: body"); an infected
  attachment passes with scope "body"; the same for SMTP jobs (the
  account's default scope), where a text/html body part is caught with
  scope "body" and the attachment is not."""
from scantest import *
import subprocess
import tempfile

a = av_account()
run = uniq("s352")
frm = "sender@" + a["domain"]

# ---------------------------------------------------------------- YARA only
with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
    f.write("some text " + MARKER + " more text\n")
    f.flush()
    p = subprocess.run(["clamscan", "--no-summary", "-d", os.path.join(REPO, "conf", "clamav"), f.name],
                       capture_output=True, text=True)
    eq(p.returncode, 0, "clamscan with the project signatures finds nothing in the marker file (%s)" % p.stdout.strip())
t1 = run + "-yara@example.net"
job, rids = rest_job(a, [t1], attachments=[("marker.txt", ("some text " + MARKER + " more text\n").encode())])
ev = wait_final(rids[0], "VIRUS_DETECTED")
eq(ev["description"], "INFECTED: attachments marker.txt", "the YARA-only find drops the job")
eq(infected_of(ev), [{"part": "marker.txt", "engine": "yara", "signature": "YARA.Txmail_Test_Marker"}],
   "found by YARA alone")

# ---------------------------------------------------------------- REST scope
body = "Hello,\n" + EICAR + "\n"
t2 = run + "-att@example.net"
job, rids = rest_job(a, [t2], body=body, scope="attachments", attachments=[("ok.txt", b"fine")])
eq(len(sink_wait(t2)), 1, "EICAR in the body, scope attachments: delivered")
check("scope=attachments, parts=1" in wait_log(job)[0], "only the attachment scanned")
for scope in ("body", "all"):
    t = run + "-" + scope + "@example.net"
    job, rids = rest_job(a, [t], body=body, scope=scope, attachments=[("ok.txt", b"fine")])
    ev = wait_final(rids[0], "VIRUS_DETECTED")
    eq(ev["description"], "INFECTED: body", "scope %s: EICAR in the body caught" % scope)
    check(all(i["part"] == "body" for i in infected_of(ev)), "content names the body")
t3 = run + "-bodyonly@example.net"
job, rids = rest_job(a, [t3], scope="body", attachments=[("eicar.txt", EICAR.encode())])
eq(len(sink_wait(t3)), 1, "an infected attachment with scope body: delivered (not in scope)")

# ---------------------------------------------------------------- SMTP scope (account default)
html = "Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("<p>" + EICAR + "</p>") + "\r\n"
att = ("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"a.txt\"\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n" + b64(EICAR) + "\r\n")
clean_att = ("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"c.txt\"\r\n"
             "\r\nclean\r\n")
for scope, parts, want in (("attachments", [html, clean_att], None), ("body", [html, att], "INFECTED: body"),
                           ("attachments", [html, att], "INFECTED: attachments a.txt")):
    acct = av_account(scope=scope)
    t = uniq(run + "-smtp") + "@example.net"
    job = smtp_job(acct, [t], message("sender@" + acct["domain"], t, "scope", mime(parts)))
    if want is None:
        eq(len(sink_wait(t)), 1, "SMTP, scope %s, EICAR in the HTML body: delivered" % scope)
    else:
        r = wait_until(lambda: rids_of(job), 20, "rids")[0]
        eq(wait_final(r, "VIRUS_DETECTED")["description"], want, "SMTP, scope %s: %s" % (scope, want))
done()
