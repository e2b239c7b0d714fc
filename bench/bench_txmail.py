"""bench_txmail - the txmail sections of make bench (see bench/run).

Each section brings up the stack and exactly the programs it needs
(Stack.programs: the counts it asks for, every process ready before the
clock starts) whatever an earlier section left, and checks everything it
measured: every request answered 2xx (loadgen), every job on the broker
(Stack.purge) and in MariaDB (Stack.jobs), every message at the sink and
no more, no program exited or restarted meanwhile (Stack.check). Any
failure raises BenchFailure: the section has no figure.
"""
import base64
import glob
import json
import os
import random
import subprocess
import time
import urllib.request

from benchlib import (BIN, REPO, WORK, BenchFailure, CpuMeter, SmtpSink, all_procs, classify, log, rss_peak_kb,
                      run_checked, sql, summary, wait_port)

STACK_DIR = os.path.join(WORK, "stack")
STACK_D = os.path.join(REPO, "scripts", "stack.d")


def stack(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return run_checked([os.path.join(REPO, "scripts", "txmail-stack")] + list(args), "txmail-stack %s" % args[0],
                       env=e).stdout


def stack_programs():
    """{name: (default count, health)} of scripts/stack.d (HEALTH: metrics, http:URL or port:NAME),
    the programs that are built (txmail-stack starts no other)"""
    out = {}
    for name in sorted(os.listdir(STACK_D)):
        if name == "README":
            continue
        conf = {"COUNT": "1", "HEALTH": "metrics", "PROGRAM": ""}
        with open(os.path.join(STACK_D, name)) as f:
            for line in f:
                k, sep, v = line.strip().partition("=")
                if sep and k in conf:
                    conf[k] = v.strip('"')
        if conf["PROGRAM"] and not os.access(os.path.join(BIN, conf["PROGRAM"]), os.X_OK):
            continue
        out[name] = (int(conf["COUNT"]), conf["HEALTH"])
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 0


class Stack:
    """The bench stack in var/bench/stack on the section's ports, brought
    up from whatever state an earlier section or run left it in."""

    def __init__(self, ports):
        self.ports = ports
        self.extra = os.path.join(WORK, "bench-extra.conf")
        with open(self.extra, "w") as f:
            f.write("deliver_smtp_port = %d\n" % ports["sink"])
            f.write("deliver_concurrency = 64\n")
        self.env = {"TXMAIL_STACK_DIR": STACK_DIR, "TXMAIL_PORT_BASE": str(ports["stack"]),
                    "TXMAIL_STACK_EXTRA_CONF": self.extra}
        self.pids = {}
        stack("down", env=self.env)   # a stack left from an earlier run may use other ports
        stack("up", env=self.env)
        self.vars = dict(l.split("=", 1) for l in stack("env", env=self.env).splitlines() if "=" in l)
        # nothing left from an earlier section or run (a failed one may leave
        # jobs, retries and events queued): the section's work only
        stack("programs-down", env=self.env)
        with open(os.path.join(REPO, "broker-config", "definitions.json")) as f:
            self.purge(*[q["name"] for q in json.load(f)["queues"]])

    def programs(self, counts=None, timeout=60):
        """Run exactly the stack's programs with counts {name: n} over the
        stack.d defaults (0: not running), restarted, and wait until every
        process is ready: rest and track answer /health, smtpd's port is
        open, a worker has written its first metrics (it consumes)."""
        self.counts = {name: (counts or {}).get(name, c) for name, (c, _) in stack_programs().items()}
        env = dict(self.env, **{"TXMAIL_COUNT_" + n.replace("-", "_"): str(c) for n, c in self.counts.items()})
        stack("programs-down", env=env)
        stack("programs-up", env=env)
        end = time.time() + timeout
        while True:
            waiting = self.not_ready()
            if not waiting:
                break
            if time.time() > end:
                raise BenchFailure("txmail programs not ready within %ds: %s (logs: %s/log)"
                                   % (timeout, ", ".join(waiting), STACK_DIR))
            time.sleep(0.2)
        self.pids = {key: read_pid(os.path.join(STACK_DIR, "log", key + ".log.pid")) for key in self.instances()}

    def instances(self):
        return ["%s-%d" % (n, i) for n, c in sorted(self.counts.items()) for i in range(1, c + 1)]

    def not_ready(self):
        health = stack_programs()
        out = []
        for key in self.instances():
            name = key.rsplit("-", 1)[0]
            sup = read_pid(os.path.join(STACK_DIR, "run", key + ".pid"))
            pid = read_pid(os.path.join(STACK_DIR, "log", key + ".log.pid"))
            h = health[name][1]
            if not (sup and alive(sup) and pid and alive(pid)):
                ok = False
            elif h == "metrics":
                ok = bool(glob.glob(os.path.join(STACK_DIR, "metrics", "*-%d.prom" % pid)))
            elif h.startswith("port:"):
                # txmail-stack env: TXMAIL_SMTP_PORT, but TXMAIL_PORT_BOUNCE
                v = self.vars.get("TXMAIL_%s_PORT" % h[5:]) or self.vars["TXMAIL_PORT_%s" % h[5:]]
                ok = port_open(int(v))
            else:   # http: the stack.d URL names the port by variable; the same port as env's
                url = {"rest": self.vars["TXMAIL_REST_HTTP_URL"], "track": self.vars["TXMAIL_TRACK_URL"]}.get(name)
                ok = http_ok(url + "/health") if url else True
            if not ok:
                out.append(key)
        return out

    def check(self):
        """BenchFailure when a program made ready by programs() has exited or
        was restarted by its supervisor since (a crash in mid-measurement)"""
        for key, pid in self.pids.items():
            now = read_pid(os.path.join(STACK_DIR, "log", key + ".log.pid"))
            if now != pid or not alive(pid):
                raise BenchFailure("%s (pid %d) exited or was restarted during the measurement (now %s; see %s)"
                                   % (key, pid, now or "not running", os.path.join(STACK_DIR, "log", key + ".log")))

    def purge(self, *queues):
        """empty the queues; returns how many messages they held"""
        import pika
        c = pika.BlockingConnection(pika.URLParameters(self.vars["TXMAIL_AMQP_URL"].rstrip("/") + "/%2F"))
        try:
            ch = c.channel()
            return sum(ch.queue_purge(q).method.message_count for q in queues)
        finally:
            c.close()

    def jobs(self):
        """acceptance records in MariaDB"""
        return int(sql(self.vars, "SELECT COUNT(*) FROM job")[0][0])

    def delivered(self):
        """recipients the recorder has as delivered"""
        return int(sql(self.vars, "SELECT COUNT(*) FROM message WHERE last_type = 'DELIVERED'")[0][0])

    def down(self):
        stack("down", env=self.env)


def port_open(port):
    try:
        wait_port(port, 0.1)
        return True
    except BenchFailure:
        return False


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


class Bench:
    """with Bench(ports, counts) as (sink, st): an smtp-sink on the sink port
    and the stack with the given programs ready; both stopped on leaving,
    also when bringing them up failed half-way."""

    def __init__(self, ports, counts=None):
        self.ports, self.counts = ports, counts
        self.sink = self.st = None

    def __enter__(self):
        try:
            self.sink = SmtpSink(self.ports["sink"])
            self.st = Stack(self.ports)
            self.st.programs(self.counts)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self.sink, self.st

    def __exit__(self, *exc):
        try:
            stack("down", env=self.st.env if self.st else
                  {"TXMAIL_STACK_DIR": STACK_DIR, "TXMAIL_PORT_BASE": str(self.ports["stack"])})
        except BenchFailure as e:   # the next section starts with "down" again
            log("  (taking the stack down: %s)" % e)
        if self.sink:
            self.sink.stop()
        return False


def job_body(size_label, path, options=None):
    """A JobRequest of about the given size: HTML with ~30 links + attachment (200 KB);
    options: job.options (e.g. the content checks)."""
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
    if options:
        req["job"]["options"] = options
    with open(path, "w") as f:
        json.dump(req, f)
    return os.path.getsize(path)


def loadgen(st, body, n, conc=50, rate=0, plain=False, warm=False, latfile=None):
    """txmail-loadgen: n POSTs of body; its result line when every request
    was answered 2xx, BenchFailure otherwise (no figure from failed requests).
    -w posts one extra request per connection before the clock starts."""
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
    try:
        r = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise BenchFailure("txmail-loadgen against %s printed no result (exit %d): %s"
                           % (url, p.returncode, (p.stdout + p.stderr)[-500:]))
    # never a figure from failed requests: every request must have succeeded
    if p.returncode != 0 or r.get("errors") or r.get("ok") != n:
        raise BenchFailure("txmail-loadgen against %s: %s of %d requests succeeded, %s errors, statuses %r "
                           "(exit %d): no figure" % (url, r.get("ok"), n, r.get("errors"), r.get("status"),
                                                     p.returncode))
    return r


def intake_checked(st, body, n, conc=50, rate=0, plain=False, warm=False, latfile=None):
    """loadgen() with nothing consuming the render queue: every accepted job
    must also be on the broker and in MariaDB (the queue is purged after)"""
    j0 = st.jobs()
    r = loadgen(st, body, n, conc, rate, plain, warm, latfile)
    want = n + (conc if warm else 0)
    queued, jobs = st.purge("render"), st.jobs() - j0
    if queued != want or jobs != want:
        raise BenchFailure("%d jobs accepted, but %d on the render queue and %d acceptance records: no figure"
                           % (want, queued, jobs))
    st.check()
    return r


def txmail_rss():
    out = {}
    for pid, (_, cmd) in all_procs().items():
        name = classify(cmd)
        if name and name.startswith("txmail-") and name not in ("txmail-loadgen", "txmail-sink"):
            out[name] = max(out.get(name, 0), rss_peak_kb(pid))
    return out


def wait_delivered(st, want, stall=60):
    """the recorder has recorded want recipients as delivered (no progress
    for stall seconds: BenchFailure)"""
    last, last_t = -1, time.time()
    while True:
        got = st.delivered()
        if got == want:
            return
        if got > want:
            raise BenchFailure("the recorder has %d recipients delivered, %d expected" % (got, want))
        if got != last:
            last, last_t = got, time.time()
        elif time.time() - last_t > stall:
            raise BenchFailure("the recorder has %d of %d recipients delivered (none for %ds)" % (got, want, stall))
        st.check()
        time.sleep(0.5)


def e2e_run(args, st, sink, label, n, reps, options=None, tag=""):
    """reps runs (after a warm-up) of n jobs from the REST intake to the
    sink: every job accepted (2xx and an acceptance record), exactly n more
    messages at the sink, every program still the one made ready, and at
    the end every recipient recorded as delivered."""
    body = os.path.join(WORK, "job-%s%s.json" % (label, tag))
    job_body(label, body, options)
    rates, cpus = [], []
    delivered0 = st.delivered()
    for rep in range(reps + 1):
        base, j0 = sink.count(), st.jobs()
        meter = CpuMeter()
        meter.start()
        lg = loadgen(st, body, n)
        t_last = sink.wait_count(base + n, 900, meter, check=st.check)
        cpu = meter.stop()
        if st.jobs() - j0 != n:
            raise BenchFailure("%d jobs accepted but %d acceptance records" % (n, st.jobs() - j0))
        st.check()
        rate = n / (t_last - lg["first_ok_ms"] / 1000.0)
        log("  e2e %s run %d%s: %.0f msg/s (intake %.0f jobs/s)" % (label, rep, " (warm-up)" if rep == 0 else "",
                                                                  rate, lg["rate"]))
        if rep > 0:
            rates.append(rate)
            cpus.append(cpu)
    wait_delivered(st, delivered0 + n * (reps + 1))
    return {"msgs_per_s": summary(rates), "messages": n, "cpu_seconds": cpus[len(cpus) // 2] if cpus else {}}


def ratio(x, anchor_section, results, label):
    a = results.get("anchor", {}).get(label, {}).get(anchor_section, {}).get("median")
    return "%.2fx" % (x / a) if a and x else "-"


def e2e(args, ports, results):
    with Bench(ports) as (sink, st):
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


def log_count(program, needle):
    """lines of the stack's logs of program (every instance) that contain needle"""
    n = 0
    for path in glob.glob(os.path.join(STACK_DIR, "log", program + "-*.log")):
        with open(path, errors="replace") as f:
            n += sum(1 for line in f if needle in line)
    return n


def e2e_secure(args, ports, results):
    """e2e 200 KB with the content checks on: job.options.spamCheck (spamd of
    the stack scores every message) and job.options.antivirus when
    txmail-scan is built (else the figure is the spam check's alone, said in
    the table). Every message must have been scored (txmail-spamcheck's log
    lines status=scored), none unavailable. spamd scores a 200 KB message in
    about 1 s of CPU (SpamAssassin's body rules over ~50 KB of text), so the
    section sends a tenth of e2e's messages per run."""
    scan = os.access(os.path.join(BIN, "txmail-scan"), os.X_OK)
    options = {"spamCheck": {"active": True}}
    if scan:
        options["antivirus"] = {"active": True}
    what = "antivirus + spam check" if scan else "spam check only (txmail-scan not built)"
    with Bench(ports) as (sink, st):
        n = max(10, args.n200 // 10)
        scored0 = log_count("spamcheck", "status=scored")
        unavailable0 = log_count("spamcheck", "status=unavailable")
        r = e2e_run(args, st, sink, "200KB", n, args.reps, options=options, tag="-secure")
        scored = log_count("spamcheck", "status=scored") - scored0
        unavailable = log_count("spamcheck", "status=unavailable") - unavailable0
        want = n * (args.reps + 1)
        if scored != want or unavailable:
            raise BenchFailure("%d of %d messages scored by spamd, %d unavailable: no figure"
                               % (scored, want, unavailable))
        m = r["msgs_per_s"]["median"]
        r["checks"] = what
        with open(os.path.join(STACK_DIR, "log", "spamd.log"), errors="replace") as f:
            scans = sorted([float(x.split("scantime=")[1].split(",")[0]) for x in f if "scantime=" in x][-want:])
        r["spamd_scantime_s"] = {k: v for k, v in summary(scans).items() if k != "runs"}
        log("  spamd: %d checks, scantime median %.2f s" % (len(scans), scans[len(scans) // 2] if scans else 0))
        results.setdefault("table", []).append(
            ("txmail end to end 200KB, %s" % what, "%.0f/s" % m,
             "%.0f-%.0f" % (r["msgs_per_s"]["min"], r["msgs_per_s"]["max"]),
             ratio(m, "msgs_per_s", results, "200KB")))
        r["peak_rss_kb"] = txmail_rss()
        results["e2e_secure"] = r


def scaling(args, ports, results):
    with Bench(ports) as (sink, st):
        out = {}
        for k in (1, 2, 4):
            st.programs({"render": k, "deliver": k, "recorder": k, "notify": k})
            r = e2e_run(args, st, sink, "200KB", args.n200, max(1, args.reps - 2))
            out[str(k)] = r
            m = r["msgs_per_s"]["median"]
            results.setdefault("table", []).append(
                ("txmail e2e 200KB, %d process(es) per worker" % k, "%.0f/s" % m,
                 "%.0f-%.0f" % (r["msgs_per_s"]["min"], r["msgs_per_s"]["max"]),
                 ratio(m, "msgs_per_s", results, "200KB")))
        results["scaling"] = out


def fixed_rate_windows(st, body, windows):
    """REST intake at 300 jobs/s in windows of 2 s (600 jobs; the queue is
    purged after each, as nothing consumes it): pooled p50/p99 over every
    request, each window's p99, and how many windows saw a stall (a request
    over 100 ms: the quorum queue's WAL roll-over, see docs/PERFORMANCE.md)."""
    pooled, p99s, stalled, rolled = [], [], 0, 0
    lf = os.path.join(WORK, "latencies.txt")
    for _ in range(windows):
        wal = wal_files()
        r = intake_checked(st, body, 600, conc=64, rate=300, warm=True, latfile=lf)
        rolled += wal_files() != wal
        with open(lf) as f:
            lat = sorted(float(x) for x in f if x.strip())
        if len(lat) != 600:
            raise BenchFailure("txmail-loadgen wrote %d latencies for 600 requests" % len(lat))
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
    p = run_checked([os.path.join(REPO, "bench", "disk-probe"), WORK, str(seconds), str(kb), "300"], "disk-probe")
    return json.loads(p.stdout.strip().splitlines()[-1])


def wal_files():
    """the names of the broker's quorum-queue write-ahead logs (a new one: a roll-over)"""
    return sorted(os.path.basename(p) for p in
                  glob.glob(os.path.join(STACK_DIR, "rabbitmq", "mnesia", "*", "quorum", "*", "*.wal")))


def intake(args, ports, results):
    """REST intake alone: txmail-rest and nothing consuming its jobs"""
    with Bench(ports, {name: 1 if name == "rest" else 0 for name in stack_programs()}) as (sink, st):
        out = {}
        for label in ("200KB", "5KB"):
            body = os.path.join(WORK, "job-%s.json" % label)
            job_body(label, body)
            # warm-up at the measured rate: TLS sessions, per-thread broker and
            # database connections, the credential cache
            intake_checked(st, body, 600, conc=64, rate=300)
            # 2 s at 300 jobs/s: nothing consumes the queue here, so longer runs
            # would measure a broker holding gigabytes (the pipeline itself does
            # not keep up with 300/s of 200 KB on 2 cores, see e2e)
            # latency of established connections (as a client's pool keeps
            # them): each run opens its 64 connections before the clock starts
            probe = disk_probe(label, 2 * args.intake_windows)
            fixed = fixed_rate_windows(st, body, args.intake_windows)
            fixed["disk_probe"] = probe
            plain = intake_checked(st, body, 600, conc=64, rate=300, plain=True, warm=True)
            peak = intake_checked(st, body, 1000, conc=64)
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


def ingest(args, ports, results):
    """SMTP ingest: bench/smtp-ingest (txmail-smtpd with confirmed queuing vs
    Postfix smtpd putting mail on hold), its own stack and Postfix; it checks
    every run (queued messages and acceptance records) and exits non-zero
    on a failure."""
    path = os.path.join(REPO, "var", "bench-smtp-ingest", "results.json")
    if os.path.exists(path):
        os.unlink(path)     # never the figures of an earlier run
    cmd = [os.path.join(REPO, "bench", "smtp-ingest"), "--reps", str(args.reps)]
    if args.quick:
        cmd.append("--quick")
    run_checked(cmd, "bench/smtp-ingest", stdout=None, stderr=None)
    with open(path) as f:
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
    without bound). Every job accepted and delivered, no program restarted."""
    with Bench(ports) as (sink, st):
        body = os.path.join(WORK, "job-5KB.json")
        job_body("5KB", body)
        minutes = args.soak_minutes
        rate = 100
        samples = []
        sent, base = 0, sink.count()
        end = time.time() + minutes * 60
        while time.time() < end:
            lg = loadgen(st, body, rate * 30, conc=32, rate=rate)
            sent += rate * 30
            st.check()
            samples.append({"t": round(time.time() - (end - minutes * 60)), "rss_kb": txmail_rss(),
                            "ok": lg["ok"]})
            log("  soak %4ds: %s" % (samples[-1]["t"], " ".join("%s=%dM" % (k.replace("txmail-", ""), v // 1024)
                                                                for k, v in sorted(samples[-1]["rss_kb"].items()))))
        sink.wait_count(base + sent, 900, check=st.check)
        first, last = samples[0]["rss_kb"], samples[-1]["rss_kb"]
        growth = {k: round((last.get(k, 0) - first.get(k, 0)) / 1024.0, 1) for k in last}
        results["soak"] = {"minutes": minutes, "rate": rate, "samples": samples, "growth_mb": growth}
        worst = max(growth.items(), key=lambda kv: kv[1]) if growth else ("-", 0)
        results.setdefault("table", []).append(
            ("soak %d min at %d/s: largest RSS growth (%s)" % (minutes, rate, worst[0]), "%.1f MB" % worst[1], "-", "-"))


SECTIONS = [("e2e", e2e), ("e2e_secure", e2e_secure), ("ingest", ingest), ("intake", intake), ("scaling", scaling), ("soak", soak)]
