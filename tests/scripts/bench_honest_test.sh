#!/bin/bash
# bench_honest_test.sh BUILD - the benchmark never prints a figure from failed
# work (issue 12 item 7), checked without running a benchmark: the helpers of
# bench/benchlib.py and bench/bench_txmail.py against a port where nothing
# listens raise BenchFailure, and bench/run's section runner reports such a
# section FAILED, drops the rows it had added, and still runs the next one.
# Prints "ok NAME" / "FAIL NAME: why".
REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-build}
case "$B" in /*) ;; *) B=$REPO/$B;; esac
[ -x "$B/bin/txmail-loadgen" ] || { echo "FAIL bench_honest_test.sh: $B/bin/txmail-loadgen is not built"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
TXMAIL_BUILD=$B TXMAIL_BENCH_DIR=$tmp timeout 60 /usr/bin/python3 - "$REPO" <<'PY'
import io, contextlib, os, socket, sys, time
sys.path.insert(0, os.path.join(sys.argv[1], "bench"))
import benchlib
import bench_txmail
from benchlib import BenchFailure


def result(name, ok, why=""):
    print(("ok   bench_honest_test.sh %s" % name) if ok else ("FAIL bench_honest_test.sh %s: %s" % (name, why)),
          flush=True)


def raises(name, fn, want):
    """fn() must raise BenchFailure whose message has want"""
    try:
        r = fn()
    except BenchFailure as e:
        result(name, want in str(e), "message %r lacks %r" % (str(e), want))
        return
    except Exception as e:  # noqa: BLE001
        result(name, False, "raised %s: %s, not BenchFailure" % (type(e).__name__, e))
        return
    result(name, False, "returned %r instead of failing" % (r,))


def dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]   # closed again: nothing listens there


port = dead_port()
body = os.path.join(benchlib.WORK, "job.json")
bench_txmail.job_body("5KB", body)


class NoStack:
    """the stack variables of a txmail-rest that is not running"""
    vars = {"TXMAIL_REST_URL": "http://127.0.0.1:%d" % port, "TXMAIL_REST_HTTP_URL": "http://127.0.0.1:%d" % port,
            "TXMAIL_DEMO_USER": "demo", "TXMAIL_DEMO_PASSWORD": "x", "TXMAIL_TLS_CA": body}

    def check(self):
        raise BenchFailure("rest-1 (pid 1) exited")


raises("loadgen_refused_no_figure", lambda: bench_txmail.loadgen(NoStack(), body, 5, conc=2),
       "0 of 5 requests succeeded")
raises("loadgen_fixed_rate_refused_no_figure",
       lambda: bench_txmail.loadgen(NoStack(), body, 5, conc=2, rate=300, warm=True), "0 of 5 requests succeeded")
raises("smtp_source_refused", lambda: benchlib.smtp_source(port, 3, 1000, 1), "smtp-source to port %d failed" % port)
raises("run_checked_exit_status", lambda: benchlib.run_checked(["false"], "a step"), "a step failed (exit 1)")

# the sink: no progress, a program gone, the sink itself gone, duplicates
sink_port = benchlib.free_port_base(1)
sink = benchlib.SmtpSink(sink_port)
try:
    t0 = time.time()
    raises("sink_stall_fails", lambda: sink.wait_count(3, 30, stall=1), "got no message for 1s: 0 of 3")
    result("sink_stall_fails_quickly", time.time() - t0 < 10, "took %.1fs" % (time.time() - t0))
    raises("sink_program_gone_fails", lambda: sink.wait_count(3, 30, check=NoStack().check), "rest-1 (pid 1) exited")
    benchlib.smtp_source(sink_port, 2, 1000, 1)
    result("sink_exact_count_passes", sink.wait_count(2, 10) > 0)
    raises("sink_duplicates_fail", lambda: sink.wait_count(1, 10), "got 2 messages, 1 expected")
finally:
    sink.stop()
raises("sink_gone_fails", lambda: sink.wait_count(3, 30), "smtp-sink exited")

# ports: bindable, below the ephemeral range and the integration suite's bases
base = benchlib.free_port_base()
result("ports_outside_ephemeral_range", base + 40 <= min(21000, benchlib.ephemeral_low()), "base %d" % base)
result("ports_bindable", all(benchlib.port_bindable(p) for p in range(base, base + 40)), "base %d" % base)

# bench/run's runner: a failed section has no figure, the next one still runs
ran = []


def failing(args, ports, results):
    results.setdefault("table", []).append(("figure before the failure", "1/s", "-", "-"))
    results["failing"] = {"x": 1}
    bench_txmail.loadgen(NoStack(), body, 5, conc=2)


def passing(args, ports, results):
    ran.append(ports["sink"])
    results.setdefault("table", []).append(("good figure", "2/s", "-", "-"))
    results["passing"] = {"y": 2}


results = {"table": [("earlier figure", "3/s", "-", "-")]}
out = io.StringIO()
with contextlib.redirect_stdout(out):
    failed = benchlib.run_sections([("passing", passing), ("failing", failing), ("skipped", failing)],
                                   ["failing", "passing", "typo"], None, results)
text = out.getvalue()
result("section_failure_reported", list(failed) == ["failing", "typo"] and
       "0 of 5 requests succeeded" in failed["failing"] and "== failing FAILED" in text,
       "failed %r, output %r" % (failed, text))
result("sections_in_the_order_asked", text.index("== failing") < text.index("== passing"), text)
result("unknown_section_fails", "no such section" in failed.get("typo", ""), "failed %r" % failed)
result("section_failure_no_figure", "failing" not in results and
       [r[0] for r in results["table"]] == ["earlier figure", "good figure"], "results %r" % results)
result("section_after_failure_runs", ran and results.get("passing") == {"y": 2}, "ran %r" % ran)
result("section_failure_recorded", results.get("failed") == failed, "results %r" % results)
PY
rc=$?
[ $rc -eq 0 ] || echo "FAIL bench_honest_test.sh: exit $rc"
