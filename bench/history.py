"""bench/history - the figures of every `make bench` run, kept over time.

bench/run appends one row per figure of a run that ended without a failed
section to docs/bench-history.tsv (committed, so the history travels with
the code) and redraws docs/bench-history.png: the ratio to the Postfix
relay anchor of the same run for every figure that has one, one line per
figure, one point per run. Ratios, not rates: this machine's absolute
speed varies between runs (±15%), the ratio to the anchor measured in the
same run varies far less.

  bench/history.py plot      redraw the PNG from the TSV (no benchmark)

Columns: date (UTC), commit, figure, median, unit, ratio ("-" when the
figure has no anchor).
"""
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TXMAIL_BENCH_HISTORY=DIR: keep the TSV and PNG there instead (tests)
_DIR = os.environ.get("TXMAIL_BENCH_HISTORY") or os.path.join(REPO, "docs")
TSV = os.path.join(_DIR, "bench-history.tsv")
PNG = os.path.join(_DIR, "bench-history.png")
HEADER = "date\tcommit\tfigure\tmedian\tunit\tratio\n"


def _commit():
    try:
        out = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return out + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "-"


def _number(text):
    """the first number of a table cell ("147/s", "4.1 ms", "155 / 129 per s") and its unit"""
    m = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(.*)$", str(text))
    if not m:
        return None, ""
    return float(m.group(1)), m.group(2).strip() or "-"


def _ratio(text):
    m = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)x\s*$", str(text))
    return float(m.group(1)) if m else None


def rows_of(results, anchor_sizes):
    """(figure, median, unit, ratio) of a results dict: the anchor and every table row"""
    rows = []
    for label in anchor_sizes:
        s = results.get("anchor", {}).get(label, {}).get("msgs_per_s", {})
        if s.get("median"):
            rows.append(("Postfix relay (anchor) %s" % label, s["median"], "msg/s", 1.0))
    for row in results.get("table", []):
        value, unit = _number(row[1])
        if value is None:
            continue
        rows.append((row[0], value, unit, _ratio(row[3])))
    return rows


def append(results, anchor_sizes, date):
    """add a finished run's figures to the TSV"""
    rows = rows_of(results, anchor_sizes)
    if not rows:
        return 0
    new = not os.path.exists(TSV)
    commit = _commit()
    with open(TSV, "a") as f:
        if new:
            f.write(HEADER)
        for figure, value, unit, ratio in rows:
            f.write("%s\t%s\t%s\t%g\t%s\t%s\n" % (date, commit, figure.replace("\t", " "), value, unit,
                                                    "-" if ratio is None else "%.2f" % ratio))
    return len(rows)


def read():
    out = []
    if not os.path.exists(TSV):
        return out
    with open(TSV) as f:
        next(f, None)
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) == 6:
                out.append(p)
    return out


def plot():
    """redraw the PNG; returns its path, or None when matplotlib is missing or nothing has a ratio"""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    series = {}
    dates = []
    for date, commit, figure, _median, _unit, ratio in read():
        if ratio == "-" or figure.startswith("Postfix relay (anchor)"):
            continue
        figure = re.sub(r"\s*\(Postfix smtpd [^)]*\)", "", figure)  # the anchor's own figure varies
        key = "%s %s" % (date, commit)
        if key not in dates:
            dates.append(key)
        series.setdefault(figure, {})[key] = float(ratio)
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(11, 6), dpi=100)
    for figure, points in sorted(series.items()):
        xs = [i for i, k in enumerate(dates) if k in points]
        ys = [points[dates[i]] for i in xs]
        ax.plot(xs, ys, marker="o", label=figure)
    ax.axhline(1.0, color="black", linewidth=1, linestyle="--")
    ax.text(0, 1.02, "anchor = 1.0", fontsize=8)
    ax.set_xticks(range(len(dates)))
    ax.set_xticklabels([d.replace(" ", "\n") for d in dates], fontsize=7)
    ax.set_ylabel("ratio to its anchor in the same run\n(the Postfix relay unless the figure names another)")
    ax.set_title("txmail make bench over time (higher is better)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(PNG)
    plt.close(fig)
    return PNG


if __name__ == "__main__":
    if sys.argv[1:] == ["plot"]:
        path = plot()
        print(path or "nothing to plot (no ratios, or python3-matplotlib missing)")
        sys.exit(0 if path else 1)
    print(__doc__)
    sys.exit(2)
