#!/bin/bash
# names_test.sh BUILD - scripts/check-names finds exported functions without
# their module prefix from real objects (a synthetic violator fails, a clean
# module passes, the allowlist needs reasons), scripts/apply-renames renames
# code but not strings, members or English words, refuses collisions and is
# idempotent, and the tree built in BUILD passes check-names.
# Prints "ok NAME" / "FAIL NAME: why" per case.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok   names_test.sh $1"; }
fail() { echo "FAIL names_test.sh $1: $2"; }
CC=${CC:-cc}

# compile ROOT SRC: ROOT/build/obj/SRC.o from ROOT/SRC
compile() {
  mkdir -p "$(dirname "$1/build/obj/$2")"
  $CC -c -o "$1/build/obj/${2%.c}.o" "$1/$2"
}

# a synthetic tree: one module per case
s=$tmp/src
mkdir -p "$s/lib/foo" "$s/scripts"
printf 'main * the entry point\n' > "$s/scripts/names-allow.txt"
cat > "$s/lib/foo/foo.c" <<'EOF'
int foo(void);
int foo_get(void);
int helper(void);
static int quiet(void) { return 0; }
int foo(void) { return quiet(); }
int foo_get(void) { return 1; }
int helper(void) { return 2; }
EOF
# template.h has no template.c: template_parse.c implements it
: > "$s/lib/foo/template.h"
cat > "$s/lib/foo/template_parse.c" <<'EOF'
int template_compile(void);
int template_parse_step(void);
int template_compile(void) { return 0; }
int template_parse_step(void) { return 0; }
EOF
# foo_bar.c with foo.c beside it: the program prefix alone is not enough
cat > "$s/lib/foo/foo_bar.c" <<'EOF'
int foo_open(void);
int foo_open(void) { return 0; }
EOF
# a test: main (allowed) and a link-time double of foo_get
cat > "$s/lib/foo/foo_test.c" <<'EOF'
int foo_get(void);
int main(void);
int foo_get(void) { return 3; }
int main(void) { return foo_get(); }
EOF
for f in lib/foo/foo.c lib/foo/template_parse.c lib/foo/foo_bar.c lib/foo/foo_test.c; do
  compile "$s" "$f" || fail compile "$f"
done

out=$("$REPO/scripts/check-names" -r "$s" -b "$s/build" 2>&1); rc=$?
if [ $rc -eq 1 ]; then ok violator_fails; else fail violator_fails "exit $rc: $out"; fi
if grep -qx 'lib/foo/foo.c: helper' <<< "$out" && grep -qx 'lib/foo/foo_bar.c: foo_open' <<< "$out"; then
  ok violators_listed
else
  fail violators_listed "$out"
fi
if grep -qE ': (foo|foo_get|template_compile|template_parse_step|main)$' <<< "$out"; then
  fail clean_names_accepted "$out"
else
  ok clean_names_accepted
fi
if grep -q 'names: 8 exported, 2 violators' <<< "$out"; then ok summary; else fail summary "$out"; fi

# the same tree made clean: the violators renamed, a stale object left
sed -i 's/helper/foo_helper/' "$s/lib/foo/foo.c"
sed -i 's/foo_open/foo_bar_open/' "$s/lib/foo/foo_bar.c"
compile "$s" lib/foo/foo.c && compile "$s" lib/foo/foo_bar.c
cp "$s/build/obj/lib/foo/foo.o" "$s/build/obj/lib/foo/gone.o"
out=$("$REPO/scripts/check-names" -r "$s" -b "$s/build" 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok clean_passes; else fail clean_passes "exit $rc: $out"; fi

# an allowlist entry needs a reason; a reasoned one silences its symbol
printf 'main *\n' > "$tmp/noreason"
out=$("$REPO/scripts/check-names" -r "$s" -b "$s/build" -a "$tmp/noreason" 2>&1); rc=$?
if [ $rc -eq 2 ]; then ok allow_needs_reason; else fail allow_needs_reason "exit $rc: $out"; fi
printf 'int odd(void);\nint odd(void) { return 0; }\n' > "$s/lib/foo/foo_odd.c"
compile "$s" lib/foo/foo_odd.c
printf 'main * the entry point\nodd lib/foo/foo_odd.c a callback name a library fixes\n' > "$tmp/allow"
out=$("$REPO/scripts/check-names" -r "$s" -b "$s/build" -a "$tmp/allow" 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok allowlisted_passes; else fail allowlisted_passes "exit $rc: $out"; fi

# apply-renames in a small git tree
g=$tmp/git
mkdir -p "$g/lib" "$g/docs"
cat > "$g/lib/a.c" <<'EOF'
/* pick - choose one; printable text stays */
struct pick { int pick; };
int pick(struct pick *p);
int pick(struct pick *p) { return p->pick + 0; }
static const char *name = "pick: done, quoted-pick";
int use(void);
int use(void) { struct pick q = { .pick = 1 }; return pick(&q) + (name != 0); }
EOF
printf 'Call `pick` or pick() to pick one.\n' > "$g/docs/A.md"
printf 'pick a_pick\ngone a_gone\n' > "$g/map"
(cd "$g" && git init -q && git add lib docs && git -c user.email=t@t -c user.name=t commit -qm t) || fail git init
out=$(cd "$g" && "$REPO/scripts/apply-renames" -m map -b none 2>&1); rc=$?
want='/* a_pick - choose one; printable text stays */
struct pick { int pick; };
int a_pick(struct pick *p);
int a_pick(struct pick *p) { return p->pick + 0; }
static const char *name = "pick: done, quoted-pick";
int use(void);
int use(void) { struct pick q = { .pick = 1 }; return a_pick(&q) + (name != 0); }'
if [ $rc -eq 0 ] && [ "$(cat "$g/lib/a.c")" = "$want" ]; then ok apply_code_only; else fail apply_code_only "exit $rc: $out; $(cat "$g/lib/a.c")"; fi
if [ "$(cat "$g/docs/A.md")" = 'Call `a_pick` or a_pick() to pick one.' ]; then ok apply_docs; else fail apply_docs "$(cat "$g/docs/A.md")"; fi
if grep -qx 'not found: gone (skipped)' <<< "$out" && grep -q '1 renamed (6 replacements in 2 files), 0 already applied, 1 not found' <<< "$out"; then
  ok apply_counts
else
  fail apply_counts "$out"
fi
before=$(cd "$g" && git diff | md5sum)
out=$(cd "$g" && "$REPO/scripts/apply-renames" -m map -b none 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$(cd "$g" && git diff | md5sum)" = "$before" ] && grep -q '0 renamed .* 1 already applied' <<< "$out"; then
  ok apply_idempotent
else
  fail apply_idempotent "exit $rc: $out"
fi
# a collision on one line writes nothing at all, not even the good lines
(cd "$g" && git checkout -q lib docs)
sed -i 's/^int use(void);$/int use(void);\nint a_pick(void);/' "$g/lib/a.c"
cp "$g/lib/a.c" "$tmp/a.before"
printf 'pick x_pick\nuse a_pick\n' > "$g/map2"
out=$(cd "$g" && "$REPO/scripts/apply-renames" -m map2 -b none 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q 'collision, line 2: use -> a_pick' <<< "$out" && cmp -s "$g/lib/a.c" "$tmp/a.before"; then
  ok apply_collision_refused
else
  fail apply_collision_refused "exit $rc: $out"
fi
printf 'a b\nc b\n' > "$g/map4"
out=$(cd "$g" && "$REPO/scripts/apply-renames" -m map4 -b none 2>&1); rc=$?
if [ $rc -eq 2 ]; then ok apply_bad_map_refused; else fail apply_bad_map_refused "exit $rc: $out"; fi

# the project: every exported function of the built tree carries its prefix
if [ -d "$B/obj" ]; then
  out=$("$REPO/scripts/check-names" -b "$B" 2>&1); rc=$?
  if [ $rc -eq 0 ]; then ok tree_clean; else fail tree_clean "$(tail -n 1 <<< "$out") (scripts/check-names -b $B lists them)"; fi
else
  fail tree_clean "$B/obj: build first"
fi
