"""Personalization memory, intake to render (issue 11: 4 MB of tiny objects
in personalization took txmail-render to 310 MB). This proves:
- 4 MB of tiny objects in one block's personalization is refused at intake,
  400 LIMIT_EXCEEDED naming the personalization, so it never reaches render;
- a template job of 4 blocks with 1 MB of personalization each (4 MB in
  all, the most one block may carry) is delivered, and txmail-render's
  peak resident size (VmHWM, reset before) stays under 4 x the job's size
  + 8 MB above its resident size before the job;
- a template job whose personalization holds the most values the limits
  allow (99,900) renders with render's peak under 64 MB above that size.
Figures are logged (docs/PERFORMANCE.md quotes them)."""
from txtest import *
import txrest

MB = 1 << 20
acct = new_account(settings={"features": {"templates": True}})
stack("publish-dns")
cl = txrest.Client(user=acct["user"], password=acct["password"], timeout=120)
LOGS = os.path.join(E["TXMAIL_STACK_DIR"], "log")
with open(os.path.join(LOGS, "render-1.log.pid")) as f:
    RENDER = int(f.read().strip())


def status(field):
    with open("/proc/%d/status" % RENDER) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    fail("no %s for txmail-render" % field)


def reset_peak():
    with open("/proc/%d/clear_refs" % RENDER, "w") as f:
        f.write("5")


def job(blocks):
    return {"subject": {"template": "Hi ${name}"},
            "body": {"contentType": "text/plain", "template": "Dear ${name}"},
            "recipients": blocks,
            "mail": {"from": {"email": "s@" + acct["domain"]}}}


def block(to, pers):
    return {"mail": {"to": [{"email": to}]}, "features": {"templating": {"personalization": pers}}}


# ---------------------------------------------------------------- 4 MB of tiny objects: refused at intake
hostile = json.dumps(job([block("h@example.net", {"name": "x", "v": []})])).replace(
    '"v": []', '"v": [' + ",".join(["{}"] * (4 * MB // 3)) + "]").encode()
st, _, _, doc = cl.post(raw=hostile)
state = (doc or {}).get("meta", {}).get("state", {})
eq((st, state.get("subType"), state.get("description")),
   (400, "LIMIT_EXCEEDED", "Count limit exceeded for recipients[0].features.templating.personalization.v: "
                           "more than 10000 elements"),
   "%.1f MB of tiny objects in personalization: refused at intake" % (len(hostile) / MB))

# ---------------------------------------------------------------- 4 x 1 MB of personalization: delivered, render bounded
run = uniq("pm")
big = "y" * (MB - 200)
blocks = [block("%s-%d@example.net" % (run, i), {"name": "n%d" % i, "big": big}) for i in range(4)]
body = json.dumps(job(blocks)).encode()
time.sleep(1)
before = status("VmRSS")
reset_peak()
st, _, _, doc = cl.post(raw=body)
eq(st, 200, "4 blocks with 1 MB of personalization each: accepted (%r)" % (doc,))
for i in range(4):
    m = sink_wait("%s-%d@example.net" % (run, i), timeout=120)
    check(b"Dear n%d" % i in m[0][1], "block %d rendered with its own values" % i)
peak = status("VmHWM") - before
log("render, %.2f MB job with 4 MB of personalization: VmRSS before %.1f MB, VmHWM %.1f MB: peak +%.1f MB (%.1fx)"
    % (len(body) / MB, before / MB, (before + peak) / MB, peak / MB, peak / len(body)))
check(peak < 4 * len(body) + 8 * MB, "render's peak +%.0f MB < 4 x %.1f MB + 8 MB" % (peak / MB, len(body) / MB))

# ---------------------------------------------------------------- the most values the limits allow
run2 = uniq("pv")
pers = {"name": "v"}
pers.update({"x%d" % i: [{}] * 9989 for i in range(10)})
body = json.dumps(job([block(run2 + "@example.net", pers)])).encode()
time.sleep(1)
before = status("VmRSS")
reset_peak()
st, _, _, doc = cl.post(raw=body)
eq(st, 200, "99,900 values of personalization: accepted (%r)" % (doc,))
sink_wait(run2 + "@example.net", timeout=120)
peak = status("VmHWM") - before
log("render, %.2f MB job with 99,900 values of personalization: VmRSS before %.1f MB, VmHWM %.1f MB: peak +%.1f MB"
    % (len(body) / MB, before / MB, (before + peak) / MB, peak / MB))
check(peak < 64 * MB, "render's peak +%.0f MB < 64 MB" % (peak / MB))
done()
