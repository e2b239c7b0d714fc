"""txmail-scan on SMTP submissions (the raw message walked with GMime),
real engines, through txmail-smtpd:
- EICAR in a base64 attachment, and in a quoted-printable attachment
  whose encoded form splits the string with a soft line break: both found
  (decoded before scanning), the attachment named;
- EICAR in a nested structure: an attached message (message/rfc822)
  inside a multipart/alternative inside multipart/mixed: found, the
  attached message named;
- a clean multipart message with attachments is delivered once;
- every recipient of the infected submission gets VIRUS_DETECTED."""
from scantest import *
import quopri

a = av_account()
run = uniq("s351")
frm = "sender@" + a["domain"]


def att(name, cte, payload, ctype="application/octet-stream"):
    return ("Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
            "Content-Transfer-Encoding: %s\r\n\r\n%s\r\n" % (ctype, name, name, cte, payload))


TEXT = "Content-Type: text/plain; charset=utf-8\r\n\r\nHello, see the attachment.\r\n"

# ---------------------------------------------------------------- clean: delivered
to0 = run + "-clean@example.net"
clean = message(frm, to0, "clean", mime([TEXT, att("data.bin", "base64", base64.encodebytes(b"\x00\x01 clean bytes " * 100).decode().replace("\n", "\r\n"))]))
job0 = smtp_job(a, [to0], clean)
m = sink_wait(to0)
eq(len(m), 1, "the clean submission is delivered once")
check(b"data.bin" in m[0][1], "with its attachment")
check("verdict=clean" in wait_log(job0)[0], "logged clean")

# ---------------------------------------------------------------- base64
t1, t1b = run + "-b64@example.net", run + "-b64b@example.net"
raw64 = base64.encodebytes(EICAR.encode()).decode().replace("\n", "\r\n")
check(EICAR not in raw64, "the encoded form does not contain the string")
job1 = smtp_job(a, [t1, t1b], message(frm, t1, "b64", mime([TEXT, att("invoice.txt", "base64", raw64)])))
for r in rids_of(job1) or wait_until(lambda: rids_of(job1), 20, "rids"):
    ev = wait_final(r, "VIRUS_DETECTED")
    eq(ev["description"], "INFECTED: attachments invoice.txt", "base64: found, named")
eq(len(rids_of(job1)), 2, "both recipients dropped")

# ---------------------------------------------------------------- quoted-printable, split by a soft break
t2 = run + "-qp@example.net"
qp = EICAR[:30] + "=\r\n" + quopri.encodestring(EICAR[30:].encode()).decode()
check(EICAR not in qp, "the QP form splits the string")
job2 = smtp_job(a, [t2], message(frm, t2, "qp", mime([TEXT, att("notes.txt", "quoted-printable", qp, "text/plain")])))
r2 = wait_until(lambda: rids_of(job2), 20, "rids")[0]
ev = wait_final(r2, "VIRUS_DETECTED")
eq(ev["description"], "INFECTED: attachments notes.txt", "quoted-printable: found, named")
check({"clamav", "yara"} <= {i["engine"] for i in infected_of(ev)}, "both engines on the decoded part")

# ---------------------------------------------------------------- nested: rfc822 inside alternative inside mixed
t3 = run + "-nested@example.net"
inner = ("From: x@example.org\r\nSubject: inner\r\nMIME-Version: 1.0\r\n" +
         mime(["Content-Type: text/plain\r\n\r\ninner text\r\n",
               "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + raw64],
              boundary="in1"))
alt = mime(["Content-Type: text/plain\r\n\r\nplain\r\n",
            "Content-Type: message/rfc822; name=\"forwarded.eml\"\r\n"
            "Content-Disposition: attachment; filename=\"forwarded.eml\"\r\n\r\n" + inner],
           boundary="alt1").replace("multipart/mixed", "multipart/alternative", 1)
job3 = smtp_job(a, [t3], message(frm, t3, "nested", mime([TEXT, alt], boundary="outer1")))
r3 = wait_until(lambda: rids_of(job3), 20, "rids")[0]
ev = wait_final(r3, "VIRUS_DETECTED")
eq(ev["description"], "INFECTED: attachments forwarded.eml", "nested: the attached message named")
time.sleep(2)
eq(sink_for(t1) + sink_for(t1b) + sink_for(t2) + sink_for(t3), [], "nothing infected at the sink")
done()
