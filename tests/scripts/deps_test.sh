#!/bin/bash
# deps_test.sh - scripts/deps finds what is missing on a machine that lacks
# packages, instead of dying before it installs anything (the detection ran
# under pipefail, and dpkg-query exits non-zero for an unknown package).
# A prepared machine cannot pass this by accident: the list names packages
# that are not installed whatever the machine has.
# Prints "ok NAME" / "FAIL NAME: why" per case.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL deps_test.sh $1: $2"; }

# a name no Debian archive has, a real Debian package this machine lacks
# (chosen at run time), and one every machine has
absent=txmail-deps-test-no-such-package
real_absent=""
for p in hello cowsay sl figlet toilet bsdgames fortune-mod; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) || st=""
  [ "${st:0:2}" = "ii" ] || { real_absent=$p; break; }
done
printf '# test list\n%s\nbash   # a comment after a name\n\n%s\n' "$absent" "$real_absent" > "$tmp/list"

out=$(set -o pipefail; bash -euo pipefail "$REPO/scripts/deps" -n "$tmp/list" 2>&1); rc=$?
if [ $rc -ne 0 ]; then fail dry_run_exits_zero "exit $rc: $out"; else echo "ok   deps_test.sh dry_run_exits_zero"; fi
if grep -qx "missing: $absent" <<< "$out"; then echo "ok   deps_test.sh unknown_package_reported"; else fail unknown_package_reported "output: $out"; fi
if [ -z "$real_absent" ] || grep -qx "missing: $real_absent" <<< "$out"; then echo "ok   deps_test.sh uninstalled_package_reported"; else fail uninstalled_package_reported "$real_absent not in: $out"; fi
if grep -q "missing: bash" <<< "$out"; then fail installed_package_not_reported "$out"; else echo "ok   deps_test.sh installed_package_not_reported"; fi
n=$(grep -c '^missing: ' <<< "$out")
want=$([ -n "$real_absent" ] && echo 2 || echo 1)
if [ "$n" = "$want" ]; then echo "ok   deps_test.sh count"; else fail count "want $want missing lines, got $n: $out"; fi

# the project's own list: every name in it is a package Debian 12 knows
# (a typo would make the real install fail on a fresh machine only)
bad=""
while read -r p; do
  p=${p%%#*}; p=${p//[[:space:]]/}
  [ -n "$p" ] || continue
  apt-cache show "$p" >/dev/null 2>&1 || bad="$bad $p"
done < "$REPO/scripts/debian-packages.txt"
if [ -z "$bad" ]; then echo "ok   deps_test.sh package_list_known"; else fail package_list_known "unknown to apt-cache:$bad"; fi
# the programs the content-security tests and benchmarks call (issue 15):
# installed by the list above, so a machine where scripts/deps did not put
# them there fails here rather than in a case that merely times out
miss=""
for t in clamd clamdscan clamscan spamd 7zz bsdtar openssl; do
  PATH=$PATH:/usr/sbin:/sbin command -v "$t" >/dev/null 2>&1 || miss="$miss $t"
done
if [ -z "$miss" ]; then echo "ok   deps_test.sh content_security_tools"; else fail content_security_tools "not installed:$miss"; fi
