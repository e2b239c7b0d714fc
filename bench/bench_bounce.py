"""bench_bounce - the "bounce" section of make bench (see bench/run): the
throughput of the bounce parser and classifier (lib/global/bounce, as
txmail-bounce-classify runs it) over the bounce corpus
(../shared/testdata/bounces, or TXMAIL_BOUNCE_CORPUS=DIR).

One run parses every .eml of the corpus --reps-many times in one process
(the files named N times on one command line, N = 20; --quick: 5), so the
figure is messages/s of parsing and classifying, not process start-up:
wall clock, and per CPU second of the program (the figure that does not
depend on what else the host runs).
Checked: the program exits 0 and prints, for each pass, as many rows as a
single pass prints (itself checked against expected.tsv's row count, so a
parser that lost records fails the section instead of reporting a figure).
"""
import os
import resource
import time

from benchlib import BIN, REPO, BenchFailure, log, run_checked, summary

CORPUS = os.environ.get("TXMAIL_BOUNCE_CORPUS",
                        os.path.join(REPO, "..", "shared", "testdata", "bounces"))


def expected_rows(corpus):
    """rows of expected.tsv, the header left out"""
    with open(os.path.join(corpus, "expected.tsv"), encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def cpu_children():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def rows(files, passes):
    """run txmail-bounce-classify over files passes times: (rows, seconds, CPU seconds)"""
    prog = os.path.join(BIN, "txmail-bounce-classify")
    t0, c0 = time.time(), cpu_children()
    p = run_checked([prog] + files * passes, "txmail-bounce-classify")
    secs, cpu = time.time() - t0, cpu_children() - c0
    return p.stdout.count("\n") - 1, secs, cpu


def bounce(args, ports, results):
    if not os.path.isdir(CORPUS):
        raise BenchFailure("no bounce corpus at %s" % CORPUS)
    files = sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if f.endswith(".eml"))
    want = expected_rows(CORPUS)
    one, _, _ = rows(files, 1)
    if one < want:
        raise BenchFailure("one pass gave %d rows, expected.tsv has %d" % (one, want))
    passes = 5 if getattr(args, "quick", False) else 20
    rates, cpu_rates = [], []
    n = len(files) * passes
    for rep in range(args.reps + 1):  # the first run is the warm-up
        got, secs, cpu = rows(files, passes)
        if got != one * passes:
            raise BenchFailure("%d passes gave %d rows, wanted %d" % (passes, got, one * passes))
        if rep > 0:
            rates.append(n / secs)
            cpu_rates.append(n / cpu if cpu > 0 else None)
            log("  run %d: %d messages in %.2fs (%.2f CPU s), %.0f messages/s" % (rep, n, secs, cpu,
                                                                                rates[-1]))
    s, c = summary(rates), summary(cpu_rates)
    results["bounce"] = {"messages": n, "rows_per_pass": one, "messages_per_s": s,
                         "messages_per_cpu_s": c}
    results.setdefault("table", []).append(
        ("bounce parse+classify (%d messages)" % n, "%.0f msg/s" % s["median"],
         "%.0f-%.0f" % (s["min"], s["max"]), "-"))
    if c["median"] is not None:
        results["table"].append(("bounce per CPU second (one process)", "%.0f msg/s" % c["median"],
                                 "%.0f-%.0f" % (c["min"], c["max"]), "-"))


SECTIONS = [("bounce", bounce)]
