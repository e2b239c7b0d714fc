"""txmailctl suppression: add, list, remove; export writes the account's
entries in force as RFC 4180 CSV (header, CRLF, quoting, null members as
empty fields) equal to the API's list; import of that file into another
account creates the same addresses as MANUAL entries with their reasons
and expiries (and reports each line: created, then replaced on a second
import); a file with any invalid line imports nothing and names every
invalid line by its number."""
import csv
import io
import os
import tempfile
from txtest import *
from txevents import *
from txmanage import *

A = new_account()
C = new_account()
cols = ["email", "type", "createdTs", "lastAttemptTs", "expiresTs", "reason", "recipientId"]

# add / list / remove
rc, out, _ = ctl("suppression", "add", A["name"], " Ctl@Example.COM ", "--reason", "by hand")
eq(out.strip(), "ctl@example.com created", "add: created")
rc, out, _ = ctl("suppression", "add", A["name"], "ctl@example.com", "--expires", iso(now_ms() + 86400000))
eq(out.strip(), "ctl@example.com replaced", "add again: replaced")
j = call(A, "GET", SUPP + "/" + q("ctl@example.com"))[3]
eq((j["type"], j["reason"]), ("MANUAL", None), "the API sees the entry txmailctl wrote")
rc, _, err = ctl("suppression", "add", A["name"], "ctl@example.com", "--expires", iso(now_ms() - 1000), check_rc=False)
eq((rc, "not in the future" in err), (1, True), "add with a past expiry: refused")
rc, _, err = ctl("suppression", "add", A["name"], "nope", check_rc=False)
eq(rc, 1, "add of a non-address: refused")
rc, _, err = ctl("suppression", "list", "no-such-account", check_rc=False)
eq((rc, "no account" in err), (1, True), "unknown account")
rc, _, err = ctl("suppression", "list", A["name"], "--type", "BAD", check_rc=False)
eq(rc, 1, "list --type BAD refused")
rc, _, _ = ctl("suppression", "frobnicate", A["name"], check_rc=False)
eq(rc, 2, "unknown subcommand: usage, exit 2")

# entries of every kind, with reasons that need quoting
t0 = now_ms() - 3600000
r0 = rid(new_job_id())
supp_row(A["id"], "bounce@example.org", created=t0, expires=now_ms() + 40 * 86400000, last=t0 + 1000,
         lifetime=45 * 86400, reason="[5.1.1] bounced (550 5.1.1 \"user\", unknown)", r=r0)
supp_row(A["id"], "unsub@example.org", typ="UNSUBSCRIBED", created=t0 + 1, reason="one-click\r\nunsubscribe")
supp_row(A["id"], "temp@example.org", typ="TEMPORARY_SUPPRESSED", created=t0 + 2, expires=now_ms() + 86400000,
         lifetime=86400, reason="mailbox full")
supp_row(A["id"], "expired@example.org", created=t0 + 3, expires=now_ms() - 1000, reason="old")
call(A, "PUT", SUPP + "/" + q("api@example.org"), body={"reason": "comma, quote \" and é"})

rc, out, _ = ctl("suppression", "list", A["name"])
lines = out.splitlines()
eq(lines[0].split()[:3], ["EMAIL", "TYPE", "CREATED"], "list: a header line")
eq(sorted(l.split()[0] for l in lines[1:]),
   sorted(["ctl@example.com", "bounce@example.org", "unsub@example.org", "temp@example.org", "api@example.org"]),
   "list: the entries in force")
rc, out, _ = ctl("suppression", "list", A["name"], "--type", "UNSUBSCRIBED")
eq([l.split()[0] for l in out.splitlines()[1:]], ["unsub@example.org"], "list --type")

# export == the API's list, byte-level RFC 4180
p = subprocess.run([os.path.join(BIN, "txmailctl"), "-c", CONF, "suppression", "export", A["name"]],
                   capture_output=True, timeout=60)
eq(p.returncode, 0, "export exit code")
raw = p.stdout
check(raw.startswith(b"email,type,createdTs,lastAttemptTs,expiresTs,reason,recipientId\r\n"), "the header line, CRLF")
check(b"\"[5.1.1] bounced (550 5.1.1 \"\"user\"\", unknown)\"" in raw, "quotes doubled inside a quoted field")
check(b"\"one-click\r\nunsubscribe\"" in raw, "a line break inside a quoted field")
check(raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), "every record ends with CRLF")
recs = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
api = call(A, "GET", SUPP + "?limit=1000")[3]["items"]
eq([{k: (v if v != "" else None) for k, v in r.items()} for r in recs], api,
   "export rows == the API's entries, in order, nulls as empty fields")
p = subprocess.run([os.path.join(BIN, "txmailctl"), "-c", CONF, "suppression", "export", A["name"],
                    "--type", "TEMPORARY_SUPPRESSED"], capture_output=True, timeout=60)
eq([r["email"] for r in csv.DictReader(io.StringIO(p.stdout.decode(), newline=""))], ["temp@example.org"],
   "export --type")

# import into C (from standard input), then again from a file
rc, out, _ = ctl("suppression", "import", C["name"], "-", stdin=raw.decode("utf-8"))
eq(out.splitlines()[-1], "5 created, 0 replaced, 0 invalid", "import: totals")
check(all(l.endswith(" created") for l in out.splitlines()[:-1]), "import: each line created")
eq([l.split(":")[0] for l in out.splitlines()[:-1]], ["line 2", "line 3", "line 4", "line 5", "line 7"],
   "line numbers count physical lines (a quoted CRLF inside the record of line 5)")
got = {i["email"]: i for i in call(C, "GET", SUPP + "?limit=1000")[3]["items"]}
eq(sorted(got), sorted(r["email"] for r in recs), "C has the same addresses")
for r in recs:
    g = got[r["email"]]
    eq((g["type"], g["reason"], g["expiresTs"], g["recipientId"], g["lastAttemptTs"]),
       ("MANUAL", r["reason"] or None, r["expiresTs"] or None, None, None), "imported %s" % r["email"])
with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as f:
    f.write(raw)
rc, out, _ = ctl("suppression", "import", C["name"], f.name)
eq(out.splitlines()[-1], "0 created, 5 replaced, 0 invalid", "second import: all replaced")

# a bad file: nothing imported, every invalid line named
bad = ("reason,email,expiresTs,type\n"             # other column order, LF only, no BOM
       "fine,good1@example.org,,\n"
       "x,not-an-address,,\n"
       "\"multi\nline\",good2@example.org,,MANUAL\n"
       "y,good3@example.org,2001-01-01T00:00:00Z,\n"
       "z,good4@example.org,someday,\n"
       "w,good5@example.org,,BOUNCED\n")
before = sql("SELECT COUNT(*) FROM suppression WHERE account_id=%s", C["id"])[0][0]
rc, out, err = ctl("suppression", "import", C["name"], "-", stdin=bad, check_rc=False)
eq(rc, 1, "bad file: exit 1")
for want in ("line 3: invalid (invalid email)", "line 6: invalid (expiresTs not in the future)",
             "line 7: invalid (invalid expiresTs)", "line 8: invalid (unknown type)", "4 invalid lines of 6"):
    check(want in err, "reported: %s" % want)
eq(sql("SELECT COUNT(*) FROM suppression WHERE account_id=%s", C["id"])[0][0], before, "nothing imported")
eq(call(C, "GET", SUPP + "/" + q("good1@example.org"))[0], 404, "not even the valid lines")
for text, why in (("", "empty"), ("address,type\nx@example.org,MANUAL\n", "no email column"),
                  ("email\n\"open@example.org\n", "unterminated quote")):
    rc, _, err = ctl("suppression", "import", C["name"], "-", stdin=text, check_rc=False)
    eq((rc, "nothing imported" in err), (1, True), "unusable file (%s)" % why)
# the valid subset imports, blank lines skipped, a BOM header accepted
rc, out, _ = ctl("suppression", "import", C["name"], "-",
                 stdin="\ufeffemail,reason\r\ngood1@example.org,fine\r\n\r\nGOOD2@example.org,\"a,b\"\r\n")
eq(out.splitlines(), ["line 2: good1@example.org created", "line 4: good2@example.org created",
                      "2 created, 0 replaced, 0 invalid"], "valid file: each line reported")
eq(call(C, "GET", SUPP + "/" + q("good2@example.org"))[3]["reason"], "a,b", "quoted comma kept")

# remove
rc, out, _ = ctl("suppression", "remove", A["name"], "CTL@example.com")
eq(out.strip(), "ctl@example.com removed", "remove")
rc, _, err = ctl("suppression", "remove", A["name"], "ctl@example.com", check_rc=False)
eq(rc, 1, "remove of an address not listed: exit 1")
eq(call(A, "GET", SUPP + "/" + q("ctl@example.com"))[0], 404, "removed for the API too")
done()
