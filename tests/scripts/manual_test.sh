#!/bin/bash
# manual_test.sh - scripts/check-manual accepts a program main file with the
# full manual and the one parameter table, and refuses: a missing or
# misplaced section, a parameter of the table (or one the skeleton adds)
# not in PARAMETERS, a documented parameter that does not exist, a table
# under another name, a parameter stored outside P_conf, a wrong NAME;
# and every program of the tree passes.
# Prints "ok NAME" / "FAIL NAME: why" per case.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$REPO/scripts/check-manual
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok   manual_test.sh $1"; }
fail() { echo "FAIL manual_test.sh $1: $2"; }

cat > "$tmp/skel.h" <<'C'
/*
 * skel - a skeleton. Parameters added for each worker <prog>: <prog>_queue,
 * <prog>_concurrency.
 */
C
cat > "$tmp/good.c" <<'C'
/*
 * NAME
 *   txmail-demo - a demo worker
 * SYNOPSIS
 *   txmail-demo [-c config]
 * DESCRIPTION
 *   Demonstrates.
 * CONSUMES
 *   demo_queue (demo).
 * PUBLISHES
 *   nothing.
 * WRITES
 *   no table.
 * PARAMETERS (and the skeleton's demo_queue, demo_concurrency)
 *   demo_size (10)          a size
 *   demo_name (x)           a name
 * METRICS
 *   none.
 */
#include "skel.h"

struct demo_conf demo_conf;

static struct cfg_param demo_params[] = {
    {"demo_size", CFG_INT, &demo_conf.size, "10", 0, 0, 0, "a size", 0, 0},
    {"demo_name", CFG_STR, &demo_conf.name, "x", 0, 0, 0,
     "a name", 0, 0},
    {0},
};
C
run() { out=$("$CHECK" "txmail-demo=$1" 2>&1); rc=$?; }
run "$tmp/good.c"
if [ $rc -eq 0 ]; then ok good_file_passes; else fail good_file_passes "exit $rc: $out"; fi

# bad NAME SED-EXPRESSION EXPECTED-MESSAGE: a variant of good.c must fail naming the fault
bad() {
  sed "$2" "$tmp/good.c" > "$tmp/$1.c"
  run "$tmp/$1.c"
  if [ $rc -eq 1 ] && grep -q -- "$3" <<< "$out"; then ok "$1"; else fail "$1" "exit $rc, want \"$3\": $out"; fi
}
bad no_consumes_section '/^ \* CONSUMES$/d' "manual has no CONSUMES section"
bad no_metrics_section '/^ \* METRICS$/,/none\./d' "manual has no METRICS section"
bad section_out_of_order 's/^ \* PUBLISHES$/ * XPUB/; s/^ \* SYNOPSIS$/ * PUBLISHES/; s/^ \* XPUB$/ * SYNOPSIS/' "section .* is out of order"
bad param_undocumented '/demo_size (10)/d' "PARAMETERS does not name demo_size"
bad generated_param_undocumented 's/demo_queue, demo_concurrency/demo_queue/' "PARAMETERS does not name demo_concurrency"
bad unknown_param_documented 's/^ \*   demo_name (x) .*/&\n *   demo_gone (1)           removed/' "names demo_gone, which is no parameter"
bad table_misnamed 's/demo_params\[\]/params[]/' 'no "static struct cfg_param demo_params'
bad conf_misnamed 's/^struct demo_conf demo_conf;/static long long p_size;/' 'no "struct demo_conf demo_conf;"'
bad loose_variable 's/&demo_conf.size/\&p_size/' "demo_size is stored in &p_size, not in demo_conf"
bad param_prefix 's/"demo_size"/"size"/' "parameter size is not named demo_"
bad wrong_name 's/txmail-demo - a demo/txmail-other - a demo/' "manual NAME says txmail-other"
bad no_manual '1,/^ \*\//d' "does not open with its manual"

out=$("$CHECK" 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok tree_programs_pass; else fail tree_programs_pass "$out"; fi
