"""bench_txmail - the txmail sections of make bench (see bench/run)."""
import base64
import json
import os
import random
import shutil
import subprocess
import time

from benchlib import (BIN, REPO, WORK, CpuMeter, SmtpSink, all_procs, classify, log, rss_peak_kb,
                      smtp_source, summary, wait_port)

STACK_DIR = os.path.join(WORK, "stack")


def stack(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([os.path.join(REPO, "scripts", "txmail-stack")] + list(args),
                       capture_output=True, text=True, env=e)
    if p.returncode != 0 and args[0] not in ("status",):
        raise RuntimeError("txmail-stack %s: %s %s" % (args[0], p.stdout, p.stderr))
    return p.stdout


class Stack:
    def __init__(self, ports):
        self.ports = ports
        self.extra = os.path.join(WORK, "bench-extra.conf")
        with open(self.extra, "w") as f:
            f.write("deliver_smtp_port = %d\n" % ports["sink"])
            f.write("deliver_concurrency = 64\n")
        self.env = {"TXMAIL_STACK_DIR": STACK_DIR, "TXMAIL_PORT_BASE": str(ports["stack"]),
                    "TXMAIL_STACK_EXTRA_CONF": self.extra}
        stack("down", env=self.env)   # a stack left from an earlier run may use other ports
        stack("up", env=self.env)
        self.vars = dict(l.split("=", 1) for l in stack("env", env=self.env).splitlines() if "=" in l)

    def restart_programs(self, counts=None):
        env = dict(self.env)
        for k, v in (counts or {}).items():
            env["TXMAIL_COUNT_" + k] = str(v)
        stack("programs-down", env=env)
        stack("programs-up", env=env)
        time.sleep(2)

    def stop_programs(self, keep=()):
        stack("programs-down", env=self.env)

    def purge(self, queue):
        subprocess.run(["/usr/bin/python3", "-c",
                        "import pika,sys;c=pika.BlockingConnection(pika.URLParameters(sys.argv[1]));"
                        "c.channel().queue_purge(sys.argv[2]);c.close()",
                        self.vars["TXMAIL_AMQP_URL"].rstrip("/") + "/%2F", queue], check=False)

    def down(self):
        stack("down", env=self.env)


def job_body(size_label, path):
    """A JobRequest of about the given size: HTML with ~30 links + attachment (200 KB)."""
    links = "".join('<p>Item %d: <a href="https://shop.example.com/p?id=%d&amp;ref=bench">view item %d</a></p>\n'
                    % (i, i, i) for i in range(30))
    if size_label == "200KB":
        filler = "<p>" + ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 900) + "</p>\n"
        attachment = base64.b64encode(random.Random(1).randbytes(100 * 1024)).decode()
        atts = [{"name": "invoice.pdf", "contentType": "application/pdf", "content": attachment}]
    else:
        filler = "<p>" + ("Lorem ipsum dolor sit amet. " * 90) + "</p>\n"
        links = links[:1500]
        atts = []
    html = "<html><body><h1>Your order</h1>\n%s%s</body></html>" % (links, filler)
    req = {"subject": {"content": "Benchmark order confirmation"},
           "body": {"contentType": "text/html", "content": html},
           "alternative": {"content": "Your order, in plain text."},
           "recipients": [{"mail": {"to": [{"email": "Bench <sink@example.test>"}]}}],
           "mail": {"from": {"email": "Shop <shop@example.com>"}},
           "job": {"features": {"openTracking": {"active": True}, "linkTracking": {"active": True}}}}
    if atts:
        req["attachments"] = atts
    with open(path, "w") as f:
        json.dump(req, f)
    return os.path.getsize(path)


def loadgen(st, body, n, conc=50, rate=0, plain=False, warm=False, latfile=None):
    v = st.vars
    url = v["TXMAIL_REST_HTTP_URL" if plain else "TXMAIL_REST_URL"] + "/email/v2/jobs"
    cmd = [os.path.join(BIN, "txmail-loadgen"), "-u", url, "-f", body,
           "-n", str(n), "-c", str(conc), "-a", "%s:%s" % (v["TXMAIL_DEMO_USER"], v["TXMAIL_DEMO_PASSWORD"]),
           "-C", v["TXMAIL_TLS_CA"]]
    if rate:
        cmd += ["-r", str(rate)]
    if warm:
        cmd.append("-w")    # connections open before the clock starts
    if latfile:
        cmd += ["-l", latfile]
    p = subprocess.run(cmd, capture_output=True, text=True)
    lines = p.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError("txmail-loadgen printed no result (exit %d): %s" % (p.returncode, p.stderr[-500:]))
    r = json.loads(lines[-1])
    # never a figure from failed requests: every request must have succeeded
    if p.returncode != 0 or r.get("errors") or r.get("ok") != n:
        raise RuntimeError("txmail-loadgen against %s: %s of %d requests succeeded, %s errors, statuses %r "
                           "(exit %d): no figure" % (url, r.get("ok"), n, r.get("errors"), r.get("status"),
                                                     p.returncode))
    return r


def txmail_rss():
    out = {}
    for pid, (_, cmd) in all_procs().items():
        name = classify(cmd)
        if name and name.startswith("txmail-") and name not in ("txmail-loadgen", "txmail-sink"):
            out[name] = max(out.get(name, 0), rss_peak_kb(pid))
    return out


def e2e_run(args, st, sink, label, n, reps):
    body = os.path.join(WORK, "job-%s.json" % label)
    job_body(label, body)
    rates, cpus = [], []
    for rep in range(reps + 1):
        base = sink.count()
        meter = CpuMeter()
        meter.start()
        lg = loadgen(st, body, n)
        if lg["ok"] != n:
            raise RuntimeError("load generator: %d of %d accepted: %s" % (lg["ok"], n, lg))
        t_last = sink.wait_count(base + n, 900, meter)
        cpu = meter.stop()
        rate = n / (t_last - lg["first_ok_ms"] / 1000.0)
        log("  e2e %s run %d%s: %.0f msg/s (intake %.0f jobs/s)" % (label, rep, " (warm-up)" if rep == 0 else "",
                                                                  rate, lg["rate"]))
        if rep > 0:
            rates.append(rate)
            cpus.append(cpu)
    return {"msgs_per_s": summary(rates), "messages": n, "cpu_seconds": cpus[len(cpus) // 2] if cpus else {}}


def ratio(x, anchor_section, results, label):
    a = results.get("anchor", {}).get(label, {}).get(anchor_section, {}).get("median")
    return "%.2fx" % (x / a) if a and x else "-"


def e2e(args, ports, results):
    sink = SmtpSink(ports["sink"])
    st = Stack(ports)
    try:
        st.restart_programs()
        out = {}
        for label in ("200KB", "5KB"):
            n = args.n200 if label == "200KB" else args.n5
            out[label] = e2e_run(args, st, sink, label, n, args.reps)
            m = out[label]["msgs_per_s"]["median"]
            results.setdefault("table", []).append(
                ("txmail end to end %s (DKIM, tracking)" % label, "%.0f/s" % m,
                 "%.0f-%.0f" % (out[label]["msgs_per_s"]["min"], out[label]["msgs_per_s"]["max"]),
                 ratio(m, "msgs_per_s", results, label)))
        out["peak_rss_kb"] = txmail_rss()
        results["e2e"] = out
    finally:
        st.down()
        sink.stop()


def scaling(args, ports, results):
    sink = SmtpSink(ports["sink"])
    st = Stack(ports)
    try:
        out = {}
        for k in (1, 2, 4):
            st.restart_programs({"render": k, "deliver": k, "recorder": k, "notify": k})
            r = e2e_run(args, st, sink, "200KB", args.n200, max(1, args.reps - 2))
            out[str(k)] = r
            m = r["msgs_per_s"]["median"]
            results.setdefault("table", []).append(
                ("txmail e2e 200KB, %d process(es) per worker" % k, "%.0f/s" % m,
                 "%.0f-%.0f" % (r["msgs_per_s"]["min"], r["msgs_per_s"]["max"]),
                 ratio(m, "msgs_per_s", results, "200KB")))
        results["scaling"] = out
    finally:
        st.down()
        sink.stop()


def fixed_rate_windows(st, body, windows):
    """REST intake at 300 jobs/s in windows of 2 s (600 jobs; the queue is
    purged after each, as nothing consumes it): pooled p50/p99 over every
    request, each window's p99, and how many windows saw a stall (a request
    over 100 ms: the quorum queue's WAL roll-over, see docs/PERFORMANCE.md)."""
    pooled, p99s, stalled, rolled = [], [], 0, 0
    lf = os.path.join(WORK, "latencies.txt")
    for _ in range(windows):
        wal = wal_files()
        r = loadgen(st, body, 600, conc=64, rate=300, warm=True, latfile=lf)
        rolled += wal_files() != wal
        st.purge("render")
        with open(lf) as f:
            lat = sorted(float(x) for x in f if x.strip())
        pooled += lat
        p99s.append(r["p99_ms"])
        stalled += lat[-1] > 100
    pooled.sort()
    return {"p50_ms": pooled[len(pooled) // 2], "p99_ms": pooled[len(pooled) * 99 // 100],
            "max_ms": pooled[-1], "requests": len(pooled), "window_p99_ms": p99s,
            "stalled_windows": stalled, "windows_with_wal_rollover": rolled}


def disk_probe(label, seconds):
    """the disk anchor: bench/disk-probe at the intake's byte rate, just before it"""
    kb = {"200KB": 200, "5KB": 5}[label]
    p = subprocess.run([os.path.join(REPO, "bench", "disk-probe"), WORK, str(seconds), str(kb), "300"],
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def wal_files():
    """the names of the broker's quorum-queue write-ahead logs (a new one: a roll-over)"""
    import glob
    return sorted(os.path.basename(p) for p in
                  glob.glob(os.path.join(STACK_DIR, "rabbitmq", "mnesia", "*", "quorum", "*", "*.wal")))


def intake(args, ports, results):
    sink = SmtpSink(ports["sink"])
    st = Stack(ports)
    try:
        st.stop_programs()
        stack("programs-up", env=dict(st.env, **{"TXMAIL_COUNT_" + n: "0" for n in
                                                ("render", "deliver", "recorder", "notify", "smtpd", "track")}))
        time.sleep(1)
        out = {}
        for label in ("200KB", "5KB"):
            body = os.path.join(WORK, "job-%s.json" % label)
            job_body(label, body)
            # warm-up at the measured rate: TLS sessions, per-thread broker and
            # database connections, the credential cache
            loadgen(st, body, 600, conc=64, rate=300)
            st.purge("render")
            # 2 s at 300 jobs/s: nothing consumes the queue here, so longer runs
            # would measure a broker holding gigabytes (the pipeline itself does
            # not keep up with 300/s of 200 KB on 2 cores, see e2e)
            # latency of established connections (as a client's pool keeps
            # them): each run opens its 64 connections before the clock starts
            probe = disk_probe(label, 2 * args.intake_windows)
            fixed = fixed_rate_windows(st, body, args.intake_windows)
            fixed["disk_probe"] = probe
            plain = loadgen(st, body, 600, conc=64, rate=300, plain=True, warm=True)
            st.purge("render")
            peak = loadgen(st, body, 1000, conc=64)
            st.purge("render")
            out[label] = {"at_300_per_s": fixed, "at_300_per_s_plain_http": plain, "max": peak}
            results.setdefault("table", []).append(
                ("REST intake %s at 300/s (HTTPS, %d x 2 s): p50 / p99" % (label, len(fixed["window_p99_ms"])),
                 "%.1f ms" % fixed["p50_ms"], "p99 %.1f ms" % fixed["p99_ms"], "-"))
            results.setdefault("table", []).append(
                ("  disk anchor: %s write + fdatasync at 300/s: p50 / p99" % label, "%.1f ms" % probe["p50_ms"],
                 "p99 %.1f ms" % probe["p99_ms"], "-"))
            results.setdefault("table", []).append(
                ("  per 2-s window p99 (ms); windows with a stall > 100 ms", " ".join(
                    "%.0f" % x for x in fixed["window_p99_ms"]), "%d stalled, %d WAL roll-overs" % (fixed["stalled_windows"], fixed["windows_with_wal_rollover"]), "-"))
            results.setdefault("table", []).append(
                ("REST intake %s at 300/s (plain HTTP): p50 / p99" % label, "%.1f ms" % plain["p50_ms"],
                 "p99 %.1f ms" % plain["p99_ms"], "-"))
            results.setdefault("table", []).append(
                ("REST intake %s, 64 connections (HTTPS)" % label, "%.0f/s" % peak["rate"],
                 "p99 %.1f ms" % peak["p99_ms"], "-"))
        results["intake"] = out
    finally:
        st.down()
        sink.stop()


def ingest(args, ports, results):
    """SMTP ingest: bench/smtp-ingest (txmail-smtpd with confirmed queuing vs
    Postfix smtpd putting mail on hold), its own stack and Postfix."""
    cmd = [os.path.join(REPO, "bench", "smtp-ingest"), "--reps", str(args.reps)]
    if args.quick:
        cmd.append("--quick")
    subprocess.run(cmd, check=True)
    with open(os.path.join(REPO, "var", "bench-smtp-ingest", "results.json")) as f:
        r = json.load(f)
    results["ingest"] = r
    for key, point in sorted(r.get("points", {}).items()):
        tx = point["txmail"]["msgs_per_s"]
        pf = point["postfix"]["msgs_per_s"]
        results.setdefault("table", []).append(
            ("SMTP ingest %s (Postfix smtpd %.0f/s)" % (key.replace("_c", " c="), pf["median"]),
             "%.0f/s" % tx["median"], "%.0f-%.0f" % (tx["min"], tx["max"]),
             "%.2fx" % (tx["median"] / pf["median"]) if pf["median"] else "-"))


def soak(args, ports, results):
    """Memory over a long run: 5 KB jobs at a steady rate for --soak-minutes,
    peak RSS of every txmail process sampled every 30 s (no process may grow
    without bound)."""
    sink = SmtpSink(ports["sink"])
    st = Stack(ports)
    try:
        st.restart_programs()
        body = os.path.join(WORK, "job-5KB.json")
        job_body("5KB", body)
        minutes = args.soak_minutes
        rate = 100
        samples = []
        end = time.time() + minutes * 60
        while time.time() < end:
            lg = loadgen(st, body, rate * 30, conc=32, rate=rate)
            samples.append({"t": round(time.time() - (end - minutes * 60)), "rss_kb": txmail_rss(),
                            "ok": lg["ok"]})
            log("  soak %4ds: %s" % (samples[-1]["t"], " ".join("%s=%dM" % (k.replace("txmail-", ""), v // 1024)
                                                                for k, v in sorted(samples[-1]["rss_kb"].items()))))
        first, last = samples[0]["rss_kb"], samples[-1]["rss_kb"]
        growth = {k: round((last.get(k, 0) - first.get(k, 0)) / 1024.0, 1) for k in last}
        results["soak"] = {"minutes": minutes, "rate": rate, "samples": samples, "growth_mb": growth}
        worst = max(growth.items(), key=lambda kv: kv[1]) if growth else ("-", 0)
        results.setdefault("table", []).append(
            ("soak %d min at %d/s: largest RSS growth (%s)" % (minutes, rate, worst[0]), "%.1f MB" % worst[1], "-", "-"))
    finally:
        st.down()
        sink.stop()


SECTIONS = [("e2e", e2e), ("ingest", ingest), ("intake", intake), ("scaling", scaling), ("soak", soak)]
