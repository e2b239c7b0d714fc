#!/bin/bash
# bench_history_test.sh BUILD - bench/history.py turns a finished run into
# rows of the history TSV (numbers and ratios read off the table, the
# varying anchor figure of a row name removed) and draws the PNG of the
# ratios (python3-matplotlib, installed by scripts/deps: this fails on a
# machine without it). No benchmark runs. Prints "ok NAME" / "FAIL NAME: why".
REPO=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
TXMAIL_BENCH_HISTORY=$tmp timeout 120 /usr/bin/python3 - "$REPO" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "bench"))
import history

bad = 0


def result(name, ok, why=""):
    global bad
    bad += 0 if ok else 1
    print(("ok   bench_history_test.sh %s" % name) if ok else ("FAIL bench_history_test.sh %s: %s" % (name, why)),
          flush=True)


run = {"anchor": {"200KB": {"msgs_per_s": {"median": 290.0}}, "5KB": {"msgs_per_s": {"median": 430.0}}},
       "table": [("txmail end to end 200KB (DKIM, tracking)", "190/s", "180-200", "0.66x"),
                 ("SMTP ingest 5KB c=10 (Postfix smtpd 1072/s)", "1414/s", "1389-1489", "1.32x"),
                 ("REST intake 5 KB p50", "3.3 ms", "p99 6.7 ms", "-"),
                 ("a row without a number", "FAILED", "-", "-")]}
n = history.append(run, ["200KB", "5KB"], "2026-12-01")
rows = history.read()
result("rows_from_anchor_and_table", n == 5 and len(rows) == 5, "n=%d rows=%r" % (n, rows))
by = {r[2]: r for r in rows}
e2e = by.get("txmail end to end 200KB (DKIM, tracking)")
result("median_and_ratio", e2e is not None and e2e[3] == "190" and e2e[5] == "0.66", repr(e2e))
lat = by.get("REST intake 5 KB p50")
result("no_ratio_is_dash", lat is not None and lat[4] == "ms" and lat[5] == "-", repr(lat))
result("plot_without_second_run", history.plot() == history.PNG and os.path.getsize(history.PNG) > 5000,
       "no PNG")
run["table"][0] = ("txmail end to end 200KB (DKIM, tracking)", "250/s", "240-260", "0.86x")
history.append(run, ["200KB", "5KB"], "2026-12-02")
os.unlink(history.PNG)
path = history.plot()
with open(path or "/dev/null", "rb") as f:
    head = f.read(8)
result("png_redrawn", head == b"\x89PNG\r\n\x1a\n", repr(head))
sys.exit(1 if bad else 0)
PY
