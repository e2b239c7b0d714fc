"""benchlib - shared pieces of the txmail benchmarks (bench/run).

Everything runs on loopback in var/bench, started and stopped here:
Postfix's smtp-sink as the receiving side for every measurement, a private
Postfix as the anchor, the txmail stack for txmail's figures.
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
BIN = os.path.join(REPO, "build", "bin")
WORK = os.environ.get("TXMAIL_BENCH_DIR", os.path.join(REPO, "var", "bench"))
CLK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print(*a, flush=True)


def free_port_base(n=40):
    for base in range(42000, 60000, 97):
        ok = True
        for p in range(base, base + n):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", p)) == 0:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free ports")


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("port %d did not open" % port)


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
        wait_port(port)

    def count(self):
        with open(self.out, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 200))
            tail = f.read().decode("ascii", "replace")
        m = re.findall(r"mesg=(\d+)", tail)
        return int(m[-1]) if m else 0

    def wait_count(self, n, timeout, meter=None):
        end = time.time() + timeout
        while time.time() < end:
            if self.count() >= n:
                return time.time()
            if meter:
                meter.sample()
            time.sleep(0.02)
        raise RuntimeError("smtp-sink got %d of %d messages within %ds" % (self.count(), n, timeout))

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.f.close()


def smtp_source(port, n, size_bytes, conc, extra=()):
    """Send n messages of about size_bytes with smtp-source; returns seconds."""
    t0 = time.time()
    subprocess.run(["smtp-source", "-s", str(conc), "-m", str(n), "-l", str(size_bytes),
                    "-f", "bench@bench.test", "-t", "sink@bench.test"] + list(extra) +
                   ["127.0.0.1:%d" % port], check=True, stdout=subprocess.DEVNULL)
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
