#!/bin/bash
# bounce_corpus_test.sh [BUILD] - the bounce parser and classifier against
# the bounce corpus (../shared/testdata/bounces, or BOUNCE_CORPUS=DIR, e.g.
# the held-back half: it is measured the same way): BUILD/bin/
# txmail-bounce-classify over every .eml, joined with expected.tsv by file
# and row order (tests/scripts/bounce_corpus_score.py; files without
# expected rows are skipped, as the corpus README says). Prints the
# accuracy of reason, hard/soft, recipient, status and reply code, the rows
# missing and extra; the whole report with every mismatch (file, field,
# got, expected) is written to BUILD/bounce_corpus.txt, and printed too
# with BOUNCE_CORPUS_VERBOSE=1 or on a failure.
# Fails below the floors (a regression guard, not the goal of 95% reasons):
# recipients 100%, no row missing or extra, hard/soft, reason, status and
# reply code the figures reached when the floors were last raised, rounded
# down. Skips with a message when the corpus directory is absent.
# Prints "ok NAME" / "FAIL NAME: why".
REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-build}
case "$B" in /*) ;; *) B=$REPO/$B ;; esac
CORPUS=${BOUNCE_CORPUS:-$REPO/../shared/testdata/bounces}
FLOORS="recipient=100 hardbounce=99 reason=98 status=98 replycode=98 feedbacktype=100 rows=0"

if [ ! -d "$CORPUS" ] || [ ! -f "$CORPUS/expected.tsv" ]; then
  echo "skip bounce_corpus_test.sh: no bounce corpus at $CORPUS (expected.tsv and *.eml)"
  exit 0
fi
prog=$B/bin/txmail-bounce-classify
[ -x "$prog" ] || { echo "FAIL bounce_corpus_test.sh: $prog is not built"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! "$prog" "$CORPUS"/*.eml > "$tmp/got.tsv" 2> "$tmp/err"; then
  echo "FAIL bounce_corpus_test.sh: txmail-bounce-classify failed: $(head -3 "$tmp/err")"
  exit 1
fi
# shellcheck disable=SC2086
/usr/bin/python3 "$REPO/tests/scripts/bounce_corpus_score.py" "$CORPUS/expected.tsv" "$tmp/got.tsv" \
  $FLOORS > "$B/bounce_corpus.txt"
rc=$?
grep -v '^MISMATCH' "$B/bounce_corpus.txt" | sed 's/^/     /'
if [ $rc -ne 0 ] || [ "${BOUNCE_CORPUS_VERBOSE:-0}" = 1 ]; then
  grep '^MISMATCH' "$B/bounce_corpus.txt" | sed 's/^MISMATCH/     mismatch/'
fi
if [ $rc -eq 0 ]; then
  echo "ok   bounce_corpus_test.sh (report in $B/bounce_corpus.txt)"
else
  echo "FAIL bounce_corpus_test.sh: below the floors ($FLOORS); report in $B/bounce_corpus.txt"
fi
