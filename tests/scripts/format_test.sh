#!/bin/bash
# format_test.sh - scripts/check-format refuses an unformatted C file (exit
# 1, naming it, with its diff), accepts a formatted one, --fix formats it,
# --base REV looks only at files changed since REV; and the whole tree
# (--all) is formatted as .clang-format says.
# Prints "ok NAME" / "FAIL NAME: why" per case.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$REPO/scripts/check-format
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok   format_test.sh $1"; }
fail() { echo "FAIL format_test.sh $1: $2"; }

cat > "$tmp/good.c" <<'C'
/* good - formatted as .clang-format says */
#include <stdio.h>

static int add(int a, int b)
{
    return a + b;
}

int main(void)
{
    for (int i = 0; i < 3; i++) {
        if (add(i, 1) > 2)
            printf("%d\n", i);
    }
    return 0;
}
C
# the same code with a K&R function brace, a tab, "char* p" and a short if on one line
cat > "$tmp/bad.c" <<'C'
/* good - formatted as .clang-format says */
#include <stdio.h>

static int add(int a, int b) {
	return a + b;
}

int main(void)
{
    for (int i = 0; i < 3; i++) {
        if (add(i, 1) > 2) printf("%d\n", i);
    }
    return 0;
}
C

out=$("$CHECK" "$tmp/good.c" 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok good_file_passes; else fail good_file_passes "exit $rc: $out"; fi

out=$("$CHECK" "$tmp/good.c" "$tmp/bad.c" 2>&1); rc=$?
if [ $rc -eq 1 ]; then ok bad_file_fails; else fail bad_file_fails "exit $rc: $out"; fi
if grep -q "^$tmp/bad.c: not formatted" <<< "$out" && ! grep -q "good.c: not" <<< "$out"; then
  ok bad_file_named; else fail bad_file_named "$out"; fi
if grep -q '^-static int add(int a, int b) {' <<< "$out" && grep -q '^+static int add(int a, int b)$' <<< "$out"; then
  ok diff_shown; else fail diff_shown "$out"; fi

cp "$tmp/bad.c" "$tmp/fixed.c"
out=$("$CHECK" --fix "$tmp/fixed.c" 2>&1); rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/fixed.c" "$tmp/good.c"; then ok fix_formats
else fail fix_formats "exit $rc: $out; $(diff "$tmp/good.c" "$tmp/fixed.c")"; fi

# --base: a repository where one commit adds a bad file and one a good one
git init -q "$tmp/repo" && cd "$tmp/repo" || exit 1
git config user.email t@t && git config user.name t
cp "$tmp/bad.c" old.c && git add old.c && git commit -qm old
cp "$tmp/good.c" new.c && git add new.c && git commit -qm new
out=$("$CHECK" --base HEAD~1 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q "1 files formatted" <<< "$out"; then ok base_checks_changed_only; else fail base_checks_changed_only "exit $rc: $out"; fi
cp "$tmp/bad.c" new.c
out=$("$CHECK" --base HEAD 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "^new.c: not formatted" <<< "$out"; then ok base_sees_uncommitted; else fail base_sees_uncommitted "exit $rc: $out"; fi
out=$("$CHECK" --base no-such-rev 2>&1); rc=$?
if [ $rc -eq 2 ]; then ok base_unknown_rev; else fail base_unknown_rev "exit $rc: $out"; fi
cd "$REPO" || exit 1

# the tree itself
out=$("$CHECK" --all 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok tree_formatted
else fail tree_formatted "$(tail -n 1 <<< "$out") (scripts/check-format --all --fix)"; fi
