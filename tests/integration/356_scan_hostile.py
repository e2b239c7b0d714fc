"""txmail-scan against hostile content (no input may crash it, nothing
half-scanned passes):
- a ZIP bomb in an attachment (one 300 MB member of zeros, ~300 KB
  compressed): within libclamav's limits (400 MB per scan) it is scanned
  (libclamav extracts to temporary files), found clean and delivered, and
  the scanner's resident size stays far below the member's size;
- a recursion bomb (25 nested ZIPs, libclamav's limit is 17): the job is
  dropped as VIRUS_DETECTED with Heuristics.Limits.Exceeded.MaxRecursion
  (content over the limits is never passed as clean);
- an SMTP message nested 30 multipart levels deep (the walk stops at 20):
  dropped with Txmail.Limits.MimeDepth (engine txmail), "INFECTED: body";
- garbage with a broken MIME structure (unterminated boundaries, a bogus
  transfer encoding, binary noise) is scanned and delivered: the scanner
  keeps running and handles the next job."""
from scantest import *

MB = 1 << 20
a = av_account()
run = uniq("s356")
frm = "sender@" + a["domain"]
PIDF = os.path.join(E["TXMAIL_STACK_DIR"], "log", "scan-1.log.pid")
PID = stack_scan_pid()


def vm(field):
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


# ---------------------------------------------------------------- a 300 MB member: scanned within the limits
b = io.BytesIO()
with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    with z.open("zeros.bin", "w", force_zip64=True) as m:
        chunk = bytes(MB)
        for _ in range(300):
            m.write(chunk)
bomb = b.getvalue()
log("ZIP bomb: %d KB compressed, 300 MB inside" % (len(bomb) // 1024))
before = vm("VmRSS")
with open("/proc/%d/clear_refs" % PID, "w") as f:
    f.write("5")
t1 = run + "-bomb@example.net"
job, rids = rest_job(a, [t1], attachments=[("archive.zip", bomb)])
eq(len(sink_wait(t1, timeout=120)), 1, "300 MB of zeros inside (within libclamav's 400 MB per scan): scanned, clean")
check("verdict=clean" in wait_log(job)[0], "logged clean")
peak = vm("VmHWM") - before
log("scanner peak on the 300 MB member: +%.1f MB" % (peak / MB))
check(peak < 120 * MB, "the scanner's peak stays bounded (+%.0f MB for a 300 MB member)" % (peak / MB))
check(int(open(PIDF).read()) == PID and os.path.exists("/proc/%d" % PID), "the scanner did not restart")

# ---------------------------------------------------------------- a recursion bomb: over the limits is a find
data, name = b"clean bottom", "bottom.txt"
for i in range(25):
    data, name = zip_of(name, data), "level%d.zip" % i
t4 = run + "-nested@example.net"
job, rids = rest_job(a, [t4], attachments=[("nested.zip", data)])
ev = wait_final(rids[0], "VIRUS_DETECTED")
eq(ev["description"], "INFECTED: attachments nested.zip", "25 nested ZIPs: dropped, never passed half-scanned")
eq([(i["engine"], i["signature"]) for i in infected_of(ev)],
   [("clamav", "Heuristics.Limits.Exceeded.MaxRecursion")], "libclamav's recursion limit named")
time.sleep(1)
eq(sink_for(t4), [], "not delivered")

# ---------------------------------------------------------------- 30 levels of multipart
t2 = run + "-deep@example.net"
body = "Content-Type: text/plain\r\n\r\nbottom\r\n"
for i in range(30):
    body = mime([body], boundary="deep%d" % i).replace("MIME-Version: 1.0\r\n", "")
job2 = smtp_job(a, [t2], message(frm, t2, "deep", "MIME-Version: 1.0\r\n" + body))
r2 = wait_until(lambda: rids_of(job2), 20, "rids")[0]
ev = wait_final(r2, "VIRUS_DETECTED")
eq(ev["description"], "INFECTED: body", "too deep to walk: dropped")
eq(infected_of(ev), [{"part": "message", "engine": "txmail", "signature": "Txmail.Limits.MimeDepth"}],
   "named as the walk's limit")

# ---------------------------------------------------------------- broken structure, noise: scanned, delivered
t3 = run + "-noise@example.net"
noise = "\r\n".join("".join(chr(c) for c in range(33, 109))[k:] + "X" * k for k in range(20))
broken = ("Content-Type: multipart/mixed; boundary=\"open\"\r\nMIME-Version: 1.0\r\n\r\n"
          "--open\r\nContent-Type: application/octet-stream; name=\"n.bin\"\r\n"
          "Content-Transfer-Encoding: x-bogus-encoding\r\n\r\n" + noise + "\r\n"
          "--open\r\nContent-Type: multipart/alternative; boundary=\"never-closed\"\r\n\r\n"
          "--never-closed\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          "!!!! not base64 ????\r\n")
job3 = smtp_job(a, [t3], message(frm, t3, "broken", broken))
eq(len(sink_wait(t3)), 1, "a broken but clean structure is scanned and delivered")
check("verdict=clean" in wait_log(job3)[0], "logged clean")
check(os.path.exists("/proc/%d" % PID), "the scanner keeps running")
done()
