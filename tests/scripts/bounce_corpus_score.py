#!/usr/bin/env python3
"""bounce_corpus_score - compare txmail-bounce-classify output with expected.tsv

usage: bounce_corpus_score.py EXPECTED.tsv GOT.tsv [FIELD=PCT]... [rows=0]

Joins the two tables by file and row order (the n-th row of a file with
the n-th expected row of that file); files without expected rows are
skipped (corpus README). Prints the accuracy of every compared field over
the expected rows, the rows missing and extra, then every mismatch as
"MISMATCH file field got=... want=...". Exit 1 when a field is below its
floor (FIELD=PCT) or, given rows=0, rows are missing or extra; else 0.
"""
import sys
from collections import OrderedDict

FIELDS = ["reason", "hardbounce", "recipient", "status", "replycode", "feedbacktype"]


def load(path):
    rows = OrderedDict()
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            rec = dict(zip(head, cols))
            rows.setdefault(rec["file"], []).append(rec)
    return rows


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    want, got = load(sys.argv[1]), load(sys.argv[2])
    floors = {}
    for a in sys.argv[3:]:
        k, v = a.split("=", 1)
        floors[k] = float(v)
    good = {k: 0 for k in FIELDS}
    total = missing = extra = 0
    bad = []
    for fname, rows in want.items():
        g = got.get(fname, [])
        for i, w in enumerate(rows):
            total += 1
            if i >= len(g):
                missing += 1
                bad.append((fname, "row", "-", w["recipient"]))
                continue
            for k in FIELDS:
                if g[i].get(k, "-") == w[k]:
                    good[k] += 1
                else:
                    bad.append((fname, k, g[i].get(k, "-"), w[k]))
        for r in g[len(rows):]:
            extra += 1
            bad.append((fname, "extra", r["recipient"], "-"))
    fail = False
    for k in FIELDS:
        pct = 100.0 * good[k] / total if total else 0.0
        floor = floors.get(k)
        mark = ""
        if floor is not None and pct < floor:
            mark = "  BELOW FLOOR %.0f%%" % floor
            fail = True
        print("%-13s %6.2f%%  (%d/%d)%s" % (k, pct, good[k], total, mark))
    print("rows missing  %d" % missing)
    print("rows extra    %d" % extra)
    if "rows" in floors and (missing or extra):
        fail = True
    for b in bad:
        print("MISMATCH\t%s\t%s\tgot=%s\twant=%s" % b)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
