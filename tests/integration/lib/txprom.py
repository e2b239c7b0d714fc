"""txprom - a strict reader of the Prometheus text exposition (format 0.0.4)
for the exporter cases (tests/integration/02x): every sample belongs to a
family with exactly one TYPE line, given before its samples; the samples of
a family are together; HELP at most once per family; no series twice;
label names, escapes and values well-formed. parse() raises ValueError
naming the line on any deviation."""
import math
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def _labels(s, where):
    """'a="x",b="y"' -> dict; ValueError when malformed."""
    out, i = {}, 0
    while i < len(s):
        m = re.match(LABEL + "=", s[i:])
        if not m:
            raise ValueError("%s: bad label name at %r" % (where, s[i:]))
        name = m.group(0)[:-1]
        i += len(m.group(0))
        if i >= len(s) or s[i] != '"':
            raise ValueError("%s: label %s: value not quoted" % (where, name))
        i += 1
        v = []
        while True:
            if i >= len(s):
                raise ValueError("%s: label %s: unterminated value" % (where, name))
            c = s[i]
            if c == "\\":
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    raise ValueError("%s: label %s: bad escape" % (where, name))
                v.append({"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]])
                i += 2
                continue
            if c == '"':
                i += 1
                break
            v.append(c)
            i += 1
        if name in out:
            raise ValueError("%s: label %s twice" % (where, name))
        out[name] = "".join(v)
        if i < len(s):
            if s[i] != ",":
                raise ValueError("%s: expected ',' after label %s" % (where, name))
            i += 1
    return out


def _value(s, where):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    try:
        return float(s)
    except ValueError:
        raise ValueError("%s: bad value %r" % (where, s)) from None


def parse(text):
    """-> {family: {"type": t, "help": h or None, "samples": [(name, labels, value)]}}"""
    fams, series, closed = {}, set(), set()
    current = None
    for n, line in enumerate(text.split("\n"), 1):
        where = "line %d" % n
        if line == "":
            continue
        if line.startswith("#"):
            m = re.match(r"# (HELP|TYPE) (" + NAME + r")(?: (.*))?$", line)
            if not m:
                continue   # a plain comment
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            if kind == "TYPE":
                if f["type"] is not None:
                    raise ValueError("%s: second TYPE for %s" % (where, name))
                if rest not in TYPES:
                    raise ValueError("%s: unknown type %r" % (where, rest))
                if f["samples"]:
                    raise ValueError("%s: TYPE of %s after its samples" % (where, name))
                f["type"] = rest
                if current is not None and current != name:
                    closed.add(current)
                current = name
            else:
                if f["help"] is not None:
                    raise ValueError("%s: second HELP for %s" % (where, name))
                f["help"] = rest
            continue
        m = re.match(r"(" + NAME + r")(?:\{(.*)\})? (\S+)(?: (-?\d+))?$", line)
        if not m:
            raise ValueError("%s: not a sample: %r" % (where, line))
        name, labels = m.group(1), _labels(m.group(2) or "", where)
        value = _value(m.group(3), where)
        fam = None
        if name in fams and fams[name]["type"] is not None:
            fam = name
        else:
            for t, sufs in SUFFIXES.items():
                for s in sufs:
                    base = name[:-len(s)]
                    if name.endswith(s) and base in fams and fams[base]["type"] == t:
                        fam = base
        if fam is None:
            raise ValueError("%s: sample %s without a TYPE" % (where, name))
        if fam != current or fam in closed:
            raise ValueError("%s: sample of %s away from its family's other samples" % (where, fam))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            raise ValueError("%s: series %s%s twice" % (where, name, labels))
        series.add(key)
        fams[fam]["samples"].append((name, labels, value))
    for name, f in fams.items():
        if f["type"] is None and f["samples"]:
            raise ValueError("family %s without TYPE" % name)
    return fams


def samples(fams):
    """Every (name, labels, value) of parse()'s result."""
    return [s for f in fams.values() for s in f["samples"]]
