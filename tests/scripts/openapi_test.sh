#!/bin/bash
# openapi_test.sh [BUILD] - docs/openapi.json, the OpenAPI document of
# txmail-rest: OpenAPI 3.1 with the JSON Schema 2020-12 dialect, every
# component schema a valid 2020-12 schema; its paths and methods are
# exactly the route table of producers/rest/rest_route.c plus POST /jobs;
# every request and answer sample of the contract (tests/fixtures/samples,
# identical to ../shared/api/samples where that copy exists) validates
# against its schema, and so do the document's inline examples (each equal
# to its sample file); a few wrong answers are refused (the schemas are not
# vacuous); and the answer checker of the integration cases
# (tests/integration/lib/txopenapi.py) accepts and refuses what it must.
# With BUILD, the document compiled into BUILD/bin/txmail-rest is the file.
# Prints "ok NAME" / "FAIL NAME: why" per case.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac

if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
  echo "FAIL openapi_test.sh jsonschema: python3-jsonschema is not installed (scripts/debian-packages.txt)"
  exit 1
fi

if [ -d "$REPO/../shared/api/samples" ]; then
  if diff -r -q "$REPO/../shared/api/samples" "$REPO/tests/fixtures/samples" > /dev/null; then
    echo "ok   openapi_test.sh samples_copy"
  else
    echo "FAIL openapi_test.sh samples_copy: tests/fixtures/samples differs from ../shared/api/samples"
  fi
fi

if [ -x "$B/bin/txmail-rest" ]; then
  # the build embeds the bytes of the document (build/gen/rest_openapi_doc.inc)
  want=$(od -An -v -tx1 "$REPO/docs/openapi.json" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g' | md5sum)
  got=$(md5sum < "$B/gen/rest_openapi_doc.inc" 2>/dev/null)
  if [ "$want" = "$got" ]; then echo "ok   openapi_test.sh embedded"; else echo "FAIL openapi_test.sh embedded: $B/gen/rest_openapi_doc.inc is not docs/openapi.json (make)"; fi
fi

REPO=$REPO /usr/bin/python3 - <<'EOF'
import copy
import json
import os
import re
import sys

import jsonschema

REPO = os.environ["REPO"]
SAMPLES = os.path.join(REPO, "tests", "fixtures", "samples")
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "lib"))
import txopenapi  # noqa: E402


def ok(name):
    print("ok   openapi_test.sh " + name)


def fail(name, why):
    print("FAIL openapi_test.sh %s: %s" % (name, why))


def case(name, problems):
    if problems:
        fail(name, "; ".join(str(p) for p in problems)[:2000])
    else:
        ok(name)


with open(os.path.join(REPO, "docs", "openapi.json"), "rb") as f:
    raw = f.read()
try:
    doc = json.loads(raw)
except ValueError as e:
    fail("parses", e)
    sys.exit(1)
ok("parses")

case("openapi_3_1", [] if re.fullmatch(r"3\.1\.\d+", doc.get("openapi", "")) else ["openapi %r" % doc.get("openapi")])
case("dialect_2020_12", [] if doc.get("jsonSchemaDialect") == "https://json-schema.org/draft/2020-12/schema"
     else ["jsonSchemaDialect %r" % doc.get("jsonSchemaDialect")])
case("basic_auth", [] if doc["components"]["securitySchemes"]["basicAuth"] == {
    "type": "http", "scheme": "basic", "description": doc["components"]["securitySchemes"]["basicAuth"].get(
        "description")} and doc.get("security") == [{"basicAuth": []}] else ["security scheme is not HTTP basic"])
case("servers_relative", [] if doc["servers"][0]["url"] == "/email/v2" else ["servers %r" % doc["servers"]])

bad = []
for name, s in doc["components"]["schemas"].items():
    try:
        jsonschema.Draft202012Validator.check_schema(s)
    except jsonschema.SchemaError as e:
        bad.append("%s: %s" % (name, e.message))
case("schemas_valid", bad)

# every $ref of the document resolves
bad = []


def walk(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                try:
                    txopenapi.deref({"$ref": v})
                except (KeyError, IndexError):
                    bad.append(v)
            else:
                walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)


walk(doc)
case("refs_resolve", bad)

# the route table against the document
with open(os.path.join(REPO, "producers", "rest", "rest_route.c")) as f:
    table = set(re.findall(r'\{"(GET|PUT|POST|DELETE|PATCH)", "([^"]+)", rest_\w+, ', f.read()))
table.add(("POST", "/jobs"))
documented = set()
for path, item in doc["paths"].items():
    for m in item:
        if m in txopenapi.METHODS:
            documented.add((m.upper(), re.sub(r"\{[^}]+\}", "*", path)))
case("routes_documented", ["%s %s" % r for r in sorted(table - documented)])
case("documented_routes_exist", ["%s %s" % r for r in sorted(documented - table)])
case("route_table_read", [] if len(table) >= 14 else ["only %d routes read from rest_route.c" % len(table)])

# every operation answers 401 unless open, and every status has a body schema or is 204
bad = []
for path, item in doc["paths"].items():
    for m, op in item.items():
        if m not in txopenapi.METHODS:
            continue
        codes = set(op["responses"])
        if op.get("security") != [] and "401" not in codes:
            bad.append("%s %s has no 401" % (m, path))
        for code, r in op["responses"].items():
            r = txopenapi.deref(r)
            if code != "204" and not r.get("content"):
                bad.append("%s %s %s has no content" % (m, path, code))
case("operations_complete", bad)


def sample(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return json.load(f)


def schema_of(path, method, code=None, request=False):
    op = doc["paths"][path][method]
    if request:
        return op["requestBody"]["content"]["application/json"]["schema"]
    return txopenapi.deref(op["responses"][code])["content"]["application/json"]["schema"]


JOBREQ = schema_of("/jobs", "post", request=True)
WEBHOOK = doc["webhooks"]["notification"]["post"]["requestBody"]["content"]["application/json"]["schema"]
BASE = {"subject": {"content": "hello"}, "mail": {"from": {"email": "sender@example.com"}},
        "recipients": [{"mail": {"to": [{"email": "to@example.com"}]}}]}


def merged(fragment):
    out = copy.deepcopy(BASE)
    out.update(fragment)
    return out


# samples: ids and timestamps are the published placeholders, so formats are annotations here
checks = [
    ("sample-jobrequest.json", JOBREQ, None),
    ("template-jobrequest.json", JOBREQ, None),
    ("recipients-case1-shared-to.json", JOBREQ, merged),
    ("recipients-case2-separate-blocks.json", JOBREQ, merged),
    ("secure-document-fragment.json", JOBREQ, merged),
    ("response-accepted-full.json", schema_of("/jobs", "post", "200"), None),
    ("response-accepted-part.json", schema_of("/jobs", "post", "200"), None),
    ("response-rejected-invalid-json-syntax.json", schema_of("/jobs", "post", "400"), None),
    ("response-rejected-forbidden-by-config.json", schema_of("/jobs", "post", "403"), None),
    ("notification-delivered-envelope-rewrite.json", WEBHOOK, None),
    ("notification-dropped-previously-bounced.json", WEBHOOK, None),
]
for name, schema, prep in checks:
    value = sample(name)
    if prep:
        value = prep(value)
    case("sample " + name, txopenapi.errors(schema, value, formats=False))

# the inline examples are the sample files and fit their schema
bad = []
seen = []


def examples(node):
    if isinstance(node, dict):
        if "schema" in node and "examples" in node:
            for ex in node["examples"].values():
                seen.append(ex.get("summary"))
                m = re.search(r"tests/fixtures/samples/([\w.-]+)", ex.get("summary", ""))
                if not m or sample(m.group(1)) != ex["value"]:
                    bad.append("example %r is not its sample file" % ex.get("summary"))
                bad.extend(txopenapi.errors(node["schema"], ex["value"], formats=False))
        for v in node.values():
            examples(v)


examples(doc)
case("examples", bad + ([] if len(seen) >= 7 else ["only %d examples found" % len(seen)]))

# the schemas refuse what the contract forbids
jid = "0b7a3c52-58a5-4d2e-9a33-5d0c2f1e8b11"
acc = {"meta": {"jobId": jid, "receivedTs": "2025-05-14T08:55:50.817Z",
                "state": {"type": "ACCEPTED", "subType": "FULL", "phase": "PRE_PROCESS"}},
       "content": {"recipients": [{"mail": {"to": [{"id": jid + "#00000000#00000000", "email": "a@example.com"}]}}]}}
rej = {"meta": {"jobId": jid, "state": {"type": "REJECTED", "subType": "MISSING_VALUE", "phase": "PRE_PROCESS",
                                        "description": "Missing mandatory value for subject.content"}}}
err = {"meta": {"state": {"type": "REJECTED", "subType": "NOT_FOUND", "description": "Unknown path"}}}
A200, R400, E404 = schema_of("/jobs", "post", "200"), schema_of("/jobs", "post", "400"), schema_of(
    "/jobs/{jobId}", "get", "404")
wrong = []


def refused(what, schema, value):
    if not txopenapi.errors(schema, value):
        wrong.append(what)


def accepted(what, schema, value):
    e = txopenapi.errors(schema, value)
    if e:
        wrong.append("%s: %s" % (what, e))


accepted("accepted FULL", A200, acc)
accepted("rejection", R400, rej)
accepted("error", E404, err)
x = copy.deepcopy(acc); x["meta"]["state"]["subType"] = "ALL"; refused("subType ALL", A200, x)
x = copy.deepcopy(acc); x["content"]["recipients"][0]["mail"]["to"][0]["validationResult"] = {"classifier": "SUPPRESSED"}
refused("FULL with a validationResult", A200, x)
x["meta"]["state"]["subType"] = "PART"; accepted("PART with a validationResult", A200, x)
x = copy.deepcopy(acc); x["meta"]["jobId"] = jid.upper(); refused("uppercase jobId", A200, x)
x = copy.deepcopy(acc); x["content"]["recipients"][0]["mail"]["to"][0]["id"] = jid; refused("recipient id shape", A200, x)
x = copy.deepcopy(acc); x["meta"]["receivedTs"] = "2025-05-14"; refused("date-only receivedTs", A200, x)
x = copy.deepcopy(rej); x["meta"]["receivedTs"] = "2025-05-14T08:55:50.817Z"; refused("rejection with receivedTs", R400, x)
x = copy.deepcopy(rej); x["content"] = {}; refused("rejection with content", R400, x)
x = copy.deepcopy(rej); x["meta"]["state"]["subType"] = "FORBIDDEN_SENDER"; refused("403 subType in a 400", R400, x)
x = copy.deepcopy(err); x["meta"]["jobId"] = jid; refused("error with jobId", E404, x)
x = copy.deepcopy(err); x["meta"]["state"]["phase"] = "PRE_PROCESS"; refused("error with phase", E404, x)
x = copy.deepcopy(err); x["extra"] = 1; x["meta"]["state"]["more"] = "x"; accepted("error with extra keys", E404, x)
x = copy.deepcopy(BASE); del x["recipients"]; refused("JobRequest without recipients", JOBREQ, x)
x = copy.deepcopy(BASE); x["recipients"][0]["mail"] = {"replyTo": {"email": "a@example.com"}}
refused("block without an address", JOBREQ, x)
case("schemas_refuse", wrong)

# the checker of the integration cases
wrong = []
J = {"content-type": "application/json"}


def answer(want_ok, what, method, path, status, headers, body):
    try:
        txopenapi.check_answer(method, path, status, headers, json.dumps(body).encode() if body is not None else b"")
        if not want_ok:
            wrong.append("accepted: " + what)
    except txopenapi.OpenApiViolation as e:
        if want_ok:
            wrong.append("refused: %s (%s)" % (what, e))


loc = {"content-type": "application/json", "location": "/email/v2/jobs/" + jid}
answer(True, "200 accepted", "POST", "/email/v2/jobs", 200, loc, acc)
answer(False, "200 without Location", "POST", "/email/v2/jobs", 200, J, acc)
answer(False, "200 with text/html", "POST", "/email/v2/jobs", 200, dict(loc, **{"content-type": "text/html"}), acc)
answer(True, "401 with its challenge", "POST", "/email/v2/jobs", 401,
       dict(J, **{"www-authenticate": 'Basic realm="txmail"'}),
       {"meta": {"jobId": jid, "state": {"type": "REJECTED", "subType": "UNAUTHORIZED", "phase": "PRE_PROCESS",
                                         "description": "Unauthorized"}}})
answer(False, "401 without WWW-Authenticate", "POST", "/email/v2/jobs", 401, J, rej)
answer(False, "status not documented", "GET", "/email/v2/jobs/" + jid, 501, J, err)
answer(True, "404 of an unknown path", "GET", "/email/v2/nowhere", 404, J, err)
answer(False, "200 of an unknown path", "GET", "/email/v2/nowhere", 200, J, {})
e405 = {"meta": {"state": {"type": "REJECTED", "subType": "METHOD_NOT_ALLOWED", "description": "Method not allowed"}}}
answer(True, "405 with Allow", "PATCH", "/email/v2/suppressions/a%40example.com", 405,
       dict(J, allow="GET, PUT, DELETE"), e405)
answer(False, "405 with a wrong Allow", "PATCH", "/email/v2/suppressions/a%40example.com", 405,
       dict(J, allow="GET"), e405)
answer(True, "204 without a body", "DELETE", "/email/v2/suppressions/a%40example.com", 204, {}, None)
answer(False, "204 with a body", "DELETE", "/email/v2/suppressions/a%40example.com", 204, J, {})
answer(True, "outside the base path", "GET", "/health", 200, {}, None)
with txopenapi.unchecked():
    answer(True, "unchecked", "GET", "/email/v2/jobs/" + jid, 501, J, err)
case("checker", wrong)
txopenapi._violations.clear()  # provoked above on purpose
EOF
