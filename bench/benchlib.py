"""benchlib - shared pieces of the txmail benchmarks (bench/run).

Everything runs on loopback in var/bench, started and stopped here:
Postfix's smtp-sink as the receiving side for every measurement, a private
Postfix as the anchor, the txmail stack for txmail's figures.

No figure from failed work: every helper here checks what it ran (exit
status, messages counted at the sink) and raises BenchFailure otherwise;
run_sections() runs each section of bench/run on its own, drops whatever a
failed section measured and reports it as failed.
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(os.environ.get("TXMAIL_BUILD", os.path.join(REPO, "build")), "bin")
WORK = os.environ.get("TXMAIL_BENCH_DIR", os.path.join(REPO, "var", "bench"))
CLK = os.sysconf("SC_CLK_TCK")


class BenchFailure(RuntimeError):
    """A measurement whose work did not all succeed: no figure from it."""


def log(*a):
    print(*a, flush=True)


def ephemeral_low():
    """the first port the kernel hands out to outgoing connections"""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_bindable(port):
    """a listener could bind 127.0.0.1:port now (as servers do, SO_REUSEADDR)"""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_base(n=40):
    """First of n consecutive ports every one of which a server can bind now.
    Below the kernel's ephemeral range: a port there may be taken at any
    moment by the local end of an outgoing connection (and stays so for a
    minute in TIME_WAIT after thousands of smtp-source connections), which
    stops a server binding it later; and below the integration suite's port
    bases (21000-39019), whose stacks come and go on this host."""
    top = min(21000, ephemeral_low()) - n
    for base in range(12000, top, 97):
        if all(port_bindable(p) for p in range(base, base + n)):
            return base
    raise BenchFailure("no %d free consecutive ports below %d" % (n, top + n))


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise BenchFailure("port %d did not open within %ds" % (port, timeout))


def run_checked(cmd, what, **kw):
    """Run cmd (output captured unless given); BenchFailure naming what when it
    exits non-zero or cannot start. Returns the CompletedProcess."""
    kw.setdefault("capture_output", "stdout" not in kw and "stderr" not in kw)
    kw.setdefault("text", True)
    try:
        p = subprocess.run(cmd, **kw)
    except OSError as e:
        raise BenchFailure("%s: cannot run %s: %s" % (what, cmd[0], e))
    if p.returncode != 0:
        out = ((p.stdout or "") + (p.stderr or "")) if kw.get("text") else ""
        raise BenchFailure("%s failed (exit %d)%s" % (what, p.returncode,
                                                      ": " + out.strip()[-500:] if out.strip() else ""))
    return p


def sql(v, q, *params):
    """rows of one statement against the stack's MariaDB (v: txmail-stack env)"""
    import pymysql
    c = pymysql.connect(unix_socket=v["TXMAIL_DB_SOCKET"], user=v["TXMAIL_DB_USER"],
                        password=v["TXMAIL_DB_PASSWORD"], database="txmail", autocommit=True)
    try:
        with c.cursor() as cur:
            cur.execute(q, params)
            return cur.fetchall()
    finally:
        c.close()


# ---------------------------------------------------------------- CPU accounting

def proc_cpu(pid):
    """utime+stime seconds of one process (0 when gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError, ValueError):
        return 0.0


def all_procs():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                data = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            ppid = int(data.rsplit(")", 1)[1].split()[1])
            out[int(d)] = (ppid, cmd)
        except (OSError, ValueError, IndexError):
            continue
    return out


POSTFIX_DAEMONS = {"master", "smtpd", "smtp", "cleanup", "qmgr", "pickup", "trivial-rewrite",
                   "anvil", "scache", "postlogd", "bounce", "tlsmgr", "proxymap", "showq", "postdrop",
                   "sendmail", "postfix", "postqueue"}


def classify(cmd):
    """Component name of a process command line, or None."""
    if "beam.smp" in cmd or "/epmd" in cmd:
        return "rabbitmq"
    if "mariadbd" in cmd:
        return "mariadb"
    if "smtp-sink" in cmd:
        return "smtp-sink"
    if "smtp-source" in cmd:
        return "smtp-source"
    if "txmail-loadgen" in cmd:
        return "loadgen"
    if cmd == "spamd" or cmd.startswith("spamd ") or cmd.startswith("/usr/sbin/spamd"):
        return "spamd"
    first = cmd.split(" ", 1)[0].rsplit("/", 1)[-1]
    if "/usr/lib/postfix/sbin/" in cmd or first in POSTFIX_DAEMONS:
        return "postfix"
    m = re.search(r"/build/bin/(txmail-[a-z0-9-]+)", cmd)
    if m:
        return m.group(1)
    return None


class CpuMeter:
    """CPU seconds per component between start() and stop(), including
    processes that start and exit in between (sampled every 0.2 s)."""

    def start(self):
        self.base = {}
        self.last = {}
        self.names = {}
        self._sample(initial=True)

    def _sample(self, initial=False):
        for pid, (_, cmd) in all_procs().items():
            name = classify(cmd)
            if not name:
                continue
            c = proc_cpu(pid)
            if initial:
                self.base[pid] = c
            elif pid not in self.base:
                self.base[pid] = 0.0
            self.last[pid] = c
            self.names[pid] = name

    def sample(self):
        self._sample()

    def stop(self):
        self._sample()
        out = {}
        for pid, c in self.last.items():
            out[self.names[pid]] = out.get(self.names[pid], 0.0) + max(0.0, c - self.base.get(pid, 0.0))
        return {k: round(v, 2) for k, v in sorted(out.items())}


def rss_peak_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---------------------------------------------------------------- smtp-sink

class SmtpSink:
    """Postfix's smtp-sink with running counters; count() = messages received."""

    def __init__(self, port):
        self.port = port
        self.out = os.path.join(WORK, "smtp-sink-%d.out" % port)
        self.f = open(self.out, "wb")
        self.p = subprocess.Popen(["smtp-sink", "-u", "postfix", "-c", "127.0.0.1:%d" % port, "2000"],
                                  stdout=self.f, stderr=subprocess.STDOUT)
        try:
            wait_port(port)
        except BenchFailure:
            self.stop()
            raise

    def count(self):
        with open(self.out, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 200))
            tail = f.read().decode("ascii", "replace")
        m = re.findall(r"mesg=(\d+)", tail)
        return int(m[-1]) if m else 0

    def wait_count(self, n, timeout, meter=None, stall=60, check=None):
        """Time at which the sink has n messages, exactly; BenchFailure when it
        gets more (duplicates), when the sink exits, when no message arrives
        for stall seconds, after timeout, or when check() raises (called
        every second: the programs the messages depend on still run)."""
        end = time.time() + timeout
        last, last_t, checked = self.count(), time.time(), time.time()
        while True:
            got, now = self.count(), time.time()
            if got >= n:
                if got > n:
                    raise BenchFailure("smtp-sink got %d messages, %d expected (duplicates)" % (got, n))
                return now
            if self.p.poll() is not None:
                raise BenchFailure("smtp-sink exited (status %d) after %d of %d messages" % (self.p.returncode, got, n))
            if got != last:
                last, last_t = got, now
            if now - last_t > stall:
                raise BenchFailure("smtp-sink got no message for %ds: %d of %d" % (stall, got, n))
            if now > end:
                raise BenchFailure("smtp-sink got %d of %d messages within %ds" % (got, n, timeout))
            if check and now - checked >= 1:
                check()
                checked = now
            if meter:
                meter.sample()
            time.sleep(0.02)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.f.close()


def smtp_source(port, n, size_bytes, conc, extra=()):
    """Send n messages of about size_bytes with smtp-source; returns seconds.
    BenchFailure when smtp-source fails (it exits non-zero on a refused
    connection or an unexpected reply)."""
    t0 = time.time()
    run_checked(["smtp-source", "-s", str(conc), "-m", str(n), "-l", str(size_bytes),
                 "-f", "bench@bench.test", "-t", "sink@bench.test"] + list(extra) +
                ["127.0.0.1:%d" % port], "smtp-source to port %d" % port)
    return time.time() - t0


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "runs": []}
    return {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
            "max": round(max(values), 1), "runs": [round(v, 1) for v in values]}


def write_results(results, path=None):
    os.makedirs(WORK, exist_ok=True)
    path = path or os.path.join(WORK, "results-%s.json" % time.strftime("%Y%m%dT%H%M%S"))
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    shutil.copyfile(path, os.path.join(WORK, "results-latest.json"))
    return path


# ---------------------------------------------------------------- sections

def run_sections(sections, only, args, results):
    """Run the sections named in only, in that order, each fn(args, ports,
    results) on its own: fresh ports for each (whatever an earlier one left,
    even in TIME_WAIT), and a section that raises is reported, its results
    and table rows dropped (no figure from a failed section), and the next
    one runs. A name that is no section fails too. Returns {name: reason}
    of the failed sections (results["failed"] too)."""
    failed = {}
    known = dict(sections)
    for name in only:
        fn = known.get(name)
        if fn is None:
            failed[name] = "no such section (sections: %s)" % ", ".join(known)
            log("== %s FAILED: %s" % (name, failed[name]))
            continue
        log("== %s" % name)
        table = list(results.get("table", []))
        try:
            base = free_port_base()
            ports = {"sink": base, "postfix": base + 1, "postfix_in": base + 2, "stack": base + 10}
            fn(args, ports, results)
        except Exception as e:  # noqa: BLE001 - any failure fails the section, not the run
            reason = "%s: %s" % (type(e).__name__, e) if not isinstance(e, BenchFailure) else str(e)
            log("== %s FAILED: %s (the section is dropped from the results)" % (name, reason))
            failed[name] = reason
            results.pop(name, None)
            results["table"] = table
    if failed:
        results["failed"] = failed
    return failed
