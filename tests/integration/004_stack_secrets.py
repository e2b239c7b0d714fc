"""Stack secrets stay secret: every secret file of the stack is mode 0600 in
a 0700 directory; no process ever shows a secret on its command line
(/proc/PID/cmdline, what ps shows every local user), neither the running
stack nor the tools `txmail-stack` runs when it (re)creates the broker
user and the database user (sampled every few ms while the broker and
the database are restarted); and a program refuses to start with a secret
file that others may read, naming the file."""
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from txtest import *

D = E["TXMAIL_STACK_DIR"]
SEC = os.path.join(D, "secrets")

# ---- modes
eq(stat.S_IMODE(os.stat(SEC).st_mode), 0o700, "mode of %s" % SEC)
files = sorted(os.listdir(SEC))
check({"broker_password", "db_password", "master_key", "tracking_keys"} <= set(files),
      "the stack's secret files are in %s" % SEC)
for f in files + ["../tls/key.pem"]:
    p = os.path.join(SEC, f)
    eq(oct(stat.S_IMODE(os.stat(p).st_mode)), oct(0o600), "mode of secrets/%s" % f)

# ---- the secrets' values, as they could appear on a command line
secrets = {}
for f in ("broker_password", "db_password", "master_key", "demo_password"):
    with open(os.path.join(SEC, f)) as fh:
        secrets[f] = fh.read().strip()
with open(os.path.join(SEC, "tracking_keys")) as fh:
    for i, line in enumerate(fh):
        if ":" in line:
            secrets["tracking_keys[%d]" % i] = line.strip().split(":", 1)[1]
check(all(len(v) >= 16 for v in secrets.values()), "secrets are long enough to be recognised")


def cmdlines():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as fh:
                yield int(pid), fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            pass


def leaks():
    out = []
    for pid, cmd in cmdlines():
        for name, v in secrets.items():
            if v in cmd:
                out.append((pid, name, cmd[:200].replace(v, "<" + name + ">")))
    return out


eq(leaks(), [], "no running process shows a secret on its command line")

# ---- sample every process while txmail-stack sets the passwords again
seen = []
stop = threading.Event()
rounds = [0]


def sampler():
    while not stop.is_set():
        for leak in leaks():
            if leak not in seen:
                seen.append(leak)
        rounds[0] += 1
        time.sleep(0.002)


t = threading.Thread(target=sampler, daemon=True)
t.start()
stack("stop-db")
stack("start-db")          # CREATE/ALTER USER ... IDENTIFIED BY the db password
stack("restart-broker")    # add_user / change_password with the broker password
stop.set()
t.join()
check(rounds[0] > 50, "the sampler looked %d times" % rounds[0])
eq(seen, [], "no process showed a secret while the users were set up")
# the users work with the passwords set through stdin
eq(sql("SELECT 1")[0][0], 1, "the database accepts the txmail password")
check(queue_count("dead") >= 0, "the broker accepts the txmail password")

# ---- a secret file that others may read stops a program, naming the file
tmp = tempfile.mkdtemp(prefix="secrets-")
try:
    loose = os.path.join(tmp, "master_key")
    shutil.copy(os.path.join(SEC, "master_key"), loose)
    os.chmod(loose, 0o640)
    p = subprocess.run([os.path.join(BIN, "txmail-render"), "-c", CONF, "-n",
                        "-o", "master_key_file=" + loose], capture_output=True, text=True, timeout=60)
    check(p.returncode != 0, "txmail-render -n refuses a 0640 master_key_file (rc %d)" % p.returncode)
    out = p.stdout + p.stderr
    check(loose in out and "group or others" in out, "the error names the file: %s" % out.strip()[-300:])
    os.chmod(loose, 0o600)
    p = subprocess.run([os.path.join(BIN, "txmail-render"), "-c", CONF, "-n",
                        "-o", "master_key_file=" + loose], capture_output=True, text=True, timeout=60)
    eq(p.returncode, 0, "txmail-render -n accepts it at 0600 (%s)" % (p.stdout + p.stderr).strip()[-200:])
finally:
    shutil.rmtree(tmp)
done()
