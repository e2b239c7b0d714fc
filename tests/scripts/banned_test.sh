#!/bin/bash
# banned_test.sh - scripts/check-banned finds banned libc calls (atoi,
# sprintf, strcpy, ...) and only real calls: not in comments, string or
# character literals, member calls or longer names; and the tree has none.
# Prints "ok NAME" / "FAIL NAME: why" per case.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$REPO/scripts/check-banned
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok   banned_test.sh $1"; }
fail() { echo "FAIL banned_test.sh $1: $2"; }

cat > "$tmp/bad.c" <<'C'
#include <stdlib.h>
int f(const char *s, char *d)
{
    int n = atoi(s);
    sprintf(d, "%d", n);
    strcpy (d, s);
    if (n) strcat(d, s); char *t = strtok(d, ","); (void)t;
    system("true");
    return rand() + (int)atol(s);
}
C
cat > "$tmp/good.c" <<'C'
/* atoi(s), sprintf(d) and strcpy(d, s) are banned: see STYLE.md
 * (a comment may name them) */
#include <stdio.h>
#include <stdlib.h>
struct ops { int (*system)(void); int (*rand)(void); };
static const char doc[] = "never call system(\"x\") or gets(buf)";
int g(const char *s, char *d, size_t n, struct ops *o, struct ops v)
{
    char q = '('; // strcat(d, s) would not be
    long x = strtol(s, NULL, 10);
    snprintf(d, n, "%ld%c%s", x, q, doc);
    my_sprintf(d);
    strcpy_s_like(d);
    return o->system() + v.rand() + o-> rand();
}
C
out=$("$CHECK" "$tmp/bad.c" 2>&1); rc=$?
if [ $rc -eq 1 ]; then ok bad_file_fails; else fail bad_file_fails "exit $rc: $out"; fi
want="4:atoi 5:sprintf 6:strcpy 7:strcat 7:strtok 8:system 9:rand 9:atol"
for w in $want; do
  line=${w%%:*} name=${w#*:}
  grep -q "^$tmp/bad.c:$line: $name: " <<< "$out" || { fail "found_$name" "line $line not reported: $out"; continue; }
  ok "found_${name}_line_$line"
done
n=$(grep -c "^$tmp/bad.c:" <<< "$out")
if [ "$n" = 8 ]; then ok exact_count; else fail exact_count "want 8 uses, got $n: $out"; fi

out=$("$CHECK" "$tmp/good.c" 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok comments_strings_members_ignored; else fail comments_strings_members_ignored "exit $rc: $out"; fi

out=$("$CHECK" 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok tree_clean; else fail tree_clean "$out"; fi
