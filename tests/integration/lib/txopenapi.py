"""txopenapi - every answer of txmail-rest checked against docs/openapi.json.

txtest.rest() and txrest.Client.request() hand each answer to check_answer().
For a request under the API base path (the document's server URL) it finds
the operation by method and path template, picks the response by status
code (a status the document does not list for that operation is a
violation), checks the Content-Type against the documented media types,
the required headers and the header values against their schemas, and
validates a JSON body against the response's schema (JSON Schema 2020-12,
$refs resolved in the document, formats asserted: uuid, date-time, date,
txmail-recipient-id). A request that matches no path, or a method the path
does not define, is checked against the document's x-txmail-unmatched
answers (404, or 405 whose Allow must list exactly the documented methods).

A violation raises OpenApiViolation at once and is remembered: the case
exits 1 at the end even when the exception was caught (or raised in a
thread). Cases that deliberately provoke an answer outside the contract
wrap the request in `with unchecked():`.
"""
import atexit
import datetime
import json
import os
import re
import sys
import threading
import urllib.parse

import jsonschema

REPO = os.environ.get("TXMAIL_REPO", os.path.abspath(os.path.join(os.path.dirname(__file__), "../../..")))
DOCUMENT = os.path.join(REPO, "docs", "openapi.json")

_lock = threading.Lock()
_off = 0
_violations = []
_doc = None
_validators = {}


class OpenApiViolation(AssertionError):
    pass


class unchecked:
    """with unchecked(): answers of requests made inside are not checked."""

    def __enter__(self):
        global _off
        with _lock:
            _off += 1

    def __exit__(self, *exc):
        global _off
        with _lock:
            _off -= 1
        return False


def document():
    global _doc
    if _doc is None:
        with open(DOCUMENT, "rb") as f:
            _doc = json.loads(f.read())
    return _doc


def base_path():
    return os.environ.get("TXMAIL_REST_BASE_PATH") or document()["servers"][0]["url"]


# ------------------------------------------------------------------ formats

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}#[0-9a-f]{8}#[0-9a-f]{8}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
DATE_RE = re.compile(r"^\d{4}-\d\d-\d\d$")


def format_checker():
    fc = jsonschema.FormatChecker(formats=())

    @fc.checks("uuid")
    def _uuid(v):
        return not isinstance(v, str) or UUID_RE.match(v) is not None

    @fc.checks("txmail-recipient-id")
    def _rid(v):
        return not isinstance(v, str) or RID_RE.match(v) is not None

    @fc.checks("date-time", raises=ValueError)
    def _ts(v):
        if not isinstance(v, str):
            return True
        if not TS_RE.match(v):
            return False
        datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return True

    @fc.checks("date", raises=ValueError)
    def _date(v):
        if not isinstance(v, str):
            return True
        if not DATE_RE.match(v):
            return False
        datetime.date.fromisoformat(v)
        return True

    return fc


def validator(schema, formats=True):
    """A Draft 2020-12 validator of schema (a part of the document); its
    $refs resolve in the document."""
    key = (id(schema), formats)
    v = _validators.get(key)
    if v is None:
        root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [schema],
                "components": document()["components"]}
        v = jsonschema.Draft202012Validator(root, format_checker=format_checker() if formats else None)
        _validators[key] = v
    return v


def errors(schema, value, formats=True):
    """The violations of value against schema, one line each (empty: valid)."""
    out = []
    for e in sorted(validator(schema, formats).iter_errors(value), key=lambda e: list(e.absolute_path)):
        where = "".join("[%r]" % p if isinstance(p, int) else ".%s" % p for p in e.absolute_path) or "(top)"
        out.append("%s: %s" % (where, e.message[:300]))
    return out


def deref(obj):
    doc = document()
    while isinstance(obj, dict) and "$ref" in obj:
        node = doc
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
    return obj


# ------------------------------------------------------------------ matching

def match_path(rel):
    """The document's path template for rel (decoded, relative to the base) and its path item, or (None, None)."""
    segs = rel.split("/")
    best = None
    for tmpl, item in document()["paths"].items():
        t = tmpl.split("/")
        if len(t) != len(segs):
            continue
        params = 0
        for a, b in zip(t, segs):
            if a.startswith("{") and a.endswith("}"):
                if b == "":
                    break
                params += 1
            elif a != b:
                break
        else:
            if best is None or params < best[0]:
                best = (params, tmpl, item)
    return (best[1], best[2]) if best else (None, None)


METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _violation(msg):
    with _lock:
        _violations.append(msg)
    raise OpenApiViolation(msg)


def check_answer(method, path, status, headers, data):
    """Check one answer of txmail-rest. headers: lowercase names. Raises OpenApiViolation."""
    if _off:
        return
    base = base_path()
    p = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
    if not (p == base or p.startswith(base + "/")):
        return
    rel = p[len(base):] or "/"
    what = "%s %s -> %d" % (method, path, status)
    tmpl, item = match_path(rel)
    m = method.lower()
    if item is None:
        responses = document()["x-txmail-unmatched"]["unknownPath"]
        what += " (no documented path)"
    elif m not in item:
        responses = document()["x-txmail-unmatched"]["undefinedMethod"]
        what += " (%s defines no %s)" % (tmpl, method)
        if status == 405:
            want = sorted(x.upper() for x in item if x in METHODS)
            got = sorted(x.strip() for x in headers.get("allow", "").split(","))
            if got != want:
                _violation("%s: Allow %r, the document defines %s" % (what, headers.get("allow"), ", ".join(want)))
    else:
        responses = item[m]["responses"]
        what += " (%s %s)" % (method, tmpl)
    resp = responses.get(str(status)) or responses.get("%dXX" % (status // 100)) or responses.get("default")
    if resp is None:
        _violation("%s: status %d is not documented (documented: %s); body %r"
                   % (what, status, ", ".join(sorted(responses)), data[:300]))
    resp = deref(resp)
    for name, h in (resp.get("headers") or {}).items():
        h = deref(h)
        value = headers.get(name.lower())
        if value is None:
            if h.get("required"):
                _violation("%s: required header %s missing (headers %r)" % (what, name, headers))
            continue
        if "schema" in h:
            bad = errors(h["schema"], value)
            if bad:
                _violation("%s: header %s %r: %s" % (what, name, value, "; ".join(bad)))
    content = resp.get("content")
    if not content:
        if data:
            _violation("%s: the document gives this answer no body, got %r" % (what, data[:300]))
        return
    if method.upper() == "HEAD":
        return
    ct = headers.get("content-type", "")
    media = ct.split(";")[0].strip().lower()
    schema = None
    for key, mt in content.items():
        if key.split(";")[0].strip().lower() == media:
            schema = mt.get("schema")
            break
    else:
        _violation("%s: Content-Type %r, documented: %s" % (what, ct, ", ".join(content)))
    if media != "application/json" or schema is None:
        return
    try:
        body = json.loads(data)
    except ValueError as e:
        _violation("%s: body is not JSON (%s): %r" % (what, e, data[:300]))
    bad = errors(schema, body)
    if bad:
        _violation("%s: body does not match the document:\n    %s\n  body: %s"
                   % (what, "\n    ".join(bad[:10]), data[:600].decode("utf-8", "replace")))


@atexit.register
def _fail_if_violated():
    with _lock:
        found = list(_violations)
    if found:
        print("FAIL: %d answer(s) of txmail-rest violate docs/openapi.json:" % len(found), flush=True)
        for v in found:
            print("  " + v, flush=True)
        sys.stdout.flush()
        os._exit(1)
