"""txmail-smtpd: limits. A 21 MB message is refused with 552 after its end
(nothing queued, the session goes on) while a 19 MB one is queued; a client
that disconnects in the middle of DATA leaves nothing; slowloris clients
(trickled command, idle, slow DATA) get 421 4.4.2 while normal clients are
served at full speed; per-IP and total connection limits; failed AUTH is
slowed, ends the session, and blocks the client IP; SIGTERM lets a message
in progress finish and closes idle sessions with 421."""
import threading

from txtest import *
from smtpdtest import *

q = job_queue("t403_jobs")
acct = new_account(domain=uniq("s403") + ".test")
sender = "app@" + acct["domain"]

# ---- 21 MB: refused after the final dot, nothing kept; the session goes on
c = Raw(timeout=60)
c.login(acct["user"], acct["password"])
line = b"x" * 78 + b"\r\n"
big = message(sender, "big@example.test", "big", "") + line * (21 * 1024 * 1024 // 80)
t0 = time.time()
res = transaction(c, sender, ["big@example.test"], big)
eq(res[-1][1], "552 5.3.4 Message size exceeds fixed maximum message size", "21 MB message refused")
eq(c.cmd("NOOP")[1], "250 2.0.0 Ok", "the session goes on after the refusal")
ok = message(sender, "nearly@example.test", "19 MB", "") + line * (19 * 1024 * 1024 // 80)
res = transaction(c, sender, ["nearly@example.test"], ok)
big_ok = queued_id(res[-1][1])
check(big_ok, "19 MB message queued (%.1fs for both)" % (time.time() - t0))
c.close()
env, raw = wait_job(q, big_ok, timeout=30)
check(len(raw) > 19 * 1024 * 1024 and raw.endswith(line), "the 19 MB message is in the job whole (%d octets)" % len(raw))

# ---- disconnect in the middle of DATA: nothing is queued
before = len(account_jobs(acct["id"]))
for tail in (b"", b"last line\r\n"):  # cut in the middle / cut just before the final dot
    c = Raw()
    c.login(acct["user"], acct["password"])
    c.cmd("MAIL FROM:<%s>" % sender)
    c.cmd("RCPT TO:<cut@example.test>")
    eq(c.cmd("DATA")[0], 354, "DATA")
    c.send(message(sender, "cut@example.test", "cut", "half of it\r\n" * 1000) + tail)
    time.sleep(0.2)
    c.close()
time.sleep(1)
eq(len(account_jobs(acct["id"])), before, "no record for messages cut off in DATA")
seen = jobs_seen(q)
eq([j for j in seen if seen[j][0]["account"] == acct["id"]], [big_ok], "nothing published for them")
log_text = open(E["TXMAIL_STACK_DIR"] + "/log/smtpd-1.log").read()
check("lost connection after DATA" in log_text and "message not queued" in log_text, "the log says why")

# ---- slowloris: a private instance with a 2 s timeout
p, port = private_smtpd("smtpd_timeout=2s", "smtpd_min_data_rate=1000", "smtpd_max_per_ip=100",
                        name="smtpd-slow")
results = {}


def trickle(i):
    c = Raw(port=port)
    t = time.time()
    try:
        for ch in "EHLO slowloris.example.test\r\n":
            c.send(ch)
            time.sleep(0.4)
        results[i] = ("no timeout", time.time() - t)
    except (BrokenPipeError, ConnectionResetError):
        results[i] = ("reset", time.time() - t)
    try:
        results[i] = (c.reply()[1], time.time() - t)
    except Exception as e:  # noqa: BLE001
        results[i] = (repr(e), time.time() - t)


def slow_data(i):
    c = Raw(port=port)
    c.login(acct["user"], acct["password"])
    c.cmd("MAIL FROM:<%s>" % sender)
    c.cmd("RCPT TO:<slow@example.test>")
    c.cmd("DATA")
    t = time.time()
    try:
        for _ in range(40):
            c.send(b"0123456789")
            time.sleep(0.5)
    except OSError:
        pass
    try:
        results[i] = (c.reply()[1], time.time() - t)
    except Exception as e:  # noqa: BLE001
        results[i] = (repr(e), time.time() - t)


# warm up (credentials verified once, then cached) so the timings below are the server's
eq(send(message(sender, "warm@example.test", "warm"), sender, ["warm@example.test"], acct["user"], acct["password"],
        port=port)[0], 250, "warm-up submission")
threads = [threading.Thread(target=trickle, args=(i,)) for i in range(20)]
threads.append(threading.Thread(target=slow_data, args=("data",)))
idle = Raw(port=port)
for t in threads:
    t.start()
time.sleep(0.5)
# normal clients meanwhile: each whole submission quick
fast = []
for i in range(5):
    t = time.time()
    code, text = send(message(sender, "fast%d@example.test" % i, "fast"), sender, ["fast%d@example.test" % i],
                      acct["user"], acct["password"], port=port)
    fast.append((code, time.time() - t))
eq([f[0] for f in fast], [250] * 5, "normal clients are served while slowloris clients hang on")
check(max(f[1] for f in fast) < 2.0, "each normal submission is quick (max %.2fs)" % max(f[1] for f in fast))
eq(idle.reply(), (421, "421 4.4.2 %s Error: timeout exceeded" % MYHOST), "an idle client times out")
for t in threads:
    t.join(30)
trickled = [results[i] for i in range(20)]
eq(set(r[0] for r in trickled), {"421 4.4.2 %s Error: timeout exceeded" % MYHOST},
   "clients trickling a command get 421 4.4.2")
check(all(1.5 < r[1] < 4.5 for r in trickled), "after about the timeout (%s)" % sorted(round(r[1], 1) for r in trickled)[::5])
eq(results["data"][0], "421 4.4.2 %s Error: timeout exceeded" % MYHOST, "a client sending DATA too slowly gets 421")
check(results["data"][1] < 6, "in about the timeout (%.1fs)" % results["data"][1])
p.stop()

# ---- connection limits: per IP and in all
p, port = private_smtpd("smtpd_max_per_ip=3", "smtpd_max_connections=5", name="smtpd-limits")
held = [Raw(port=port) for _ in range(3)]
eq([h.greeting[0] for h in held], [220] * 3, "three connections from one address")
extra = Raw(port=port)
eq(extra.greeting, (421, "421 4.7.0 %s Error: too many connections from 127.0.0.1" % MYHOST), "the fourth: 421")
check(extra.closed(), "and it is closed")
other = Raw(port=port, source="127.0.0.2")
eq(other.greeting[0], 220, "another address is still served")
other2 = Raw(port=port, source="127.0.0.3")
eq(other2.greeting[0], 220, "five connections in all")
sixth = Raw(port=port, source="127.0.0.4")
eq(sixth.greeting, (421, "421 4.3.2 %s Service not available: too many connections" % MYHOST),
   "the sixth connection: over the total")
held[0].cmd("QUIT")
held[0].close()
time.sleep(0.3)
again = wait_until(lambda: (lambda r: r if r.greeting[0] == 220 else r.close())(Raw(port=port)), 5,
                   "a slot after a QUIT")
eq(again.greeting[0], 220, "a freed slot is usable again")
for h in held[1:] + [other, other2, again]:
    h.close()
p.stop()

# ---- failed AUTH: slowed, session closed, client address blocked
p, port = private_smtpd("smtpd_auth_failure_delay=300ms", "smtpd_auth_failure_limit=3",
                        "smtpd_auth_session_failures=2", name="smtpd-authlimit")
c = Raw(port=port, source="127.0.0.9")
c.ehlo()
c.starttls()
c.ehlo()
t = time.time()
eq(c.auth_plain(acct["user"], "bad1")[1], "535 5.7.8 Authentication credentials invalid", "first failure")
d1 = time.time() - t
t = time.time()
eq(c.auth_plain(acct["user"], "bad2")[1], "535 5.7.8 Authentication credentials invalid", "second failure")
d2 = time.time() - t
check(d1 >= 0.3 and d2 >= 0.6, "each failure answered later (%.2fs, %.2fs)" % (d1, d2))
eq(c.reply(), (421, "421 4.7.0 %s Error: too many authentication failures" % MYHOST),
   "the session ends after two failures")
check(c.closed(), "closed")
c = Raw(port=port, source="127.0.0.9")
c.ehlo()
c.starttls()
c.ehlo()
eq(c.auth_plain(acct["user"], "bad3")[0], 535, "third failure from the address")
eq(c.auth_plain(acct["user"], acct["password"])[1], "454 4.7.0 Too many failed authentications, try again later",
   "the address is blocked: even the right password is not checked (temporary failure)")
c.close()
c = Raw(port=port, source="127.0.0.10")
c.ehlo()
c.starttls()
c.ehlo()
eq(c.auth_plain(acct["user"], acct["password"])[0], 235, "another address authenticates")
c.close()
plog = p.log_text()
check("authentication failed" in plog and "not checked" in plog, "failures logged, blocked ones not checked")
check("bad1" not in plog and acct["password"] not in plog, "no password in the log")
p.stop()

# ---- SIGTERM: the message in progress is finished, idle sessions get 421
p, port = private_smtpd(name="smtpd-term")
busy = Raw(port=port)
busy.login(acct["user"], acct["password"])
busy.cmd("MAIL FROM:<%s>" % sender)
busy.cmd("RCPT TO:<term@example.test>")
eq(busy.cmd("DATA")[0], 354, "DATA before SIGTERM")
busy.send(b"From: " + sender.encode() + b"\r\nSubject: term\r\n\r\nfirst half\r\n")
idle = Raw(port=port)
idle.ehlo()
p.proc.send_signal(15)
eq(idle.reply(), (421, "421 4.3.2 %s Service shutting down" % MYHOST), "idle session: 421 at SIGTERM")
time.sleep(0.5)
busy.send(b"second half\r\n.\r\n")
code, text = busy.reply()
term_job = queued_id(text)
check(term_job, "the message in progress is still queued: %s" % text)
eq(busy.cmd("NOOP")[0], 421, "then that session is closed too")
eq(p.proc.wait(20), 0, "txmail-smtpd exits 0")
wait_job(q, term_job)
delete_queue(q)
done()
