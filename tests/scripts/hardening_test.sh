#!/bin/bash
# hardening_test.sh BUILD - every program is built hardened: PIE, full RELRO
# (BIND_NOW), a non-executable stack, the stack protector and fortified
# libc calls where the program uses them. Prints "ok NAME" / "FAIL NAME: why".
REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-build}
case "$B" in /*) ;; *) B=$REPO/$B;; esac
case "$B" in *asan*) echo "ok   hardening_test.sh skipped_for_sanitizer_build"; exit 0;; esac
n=0; bad=""
for f in "$B"/bin/*; do
  [ -x "$f" ] || continue
  n=$((n + 1)); name=$(basename "$f")
  hdr=$(readelf -h "$f" 2>/dev/null); dyn=$(readelf -d "$f" 2>/dev/null)
  seg=$(readelf -lW "$f" 2>/dev/null); syms=$(readelf --dyn-syms -W "$f" 2>/dev/null)
  grep -q 'Type:[[:space:]]*DYN' <<< "$hdr" || bad="$bad $name:not-PIE"
  grep -q 'GNU_RELRO' <<< "$seg" || bad="$bad $name:no-RELRO"
  grep -Eq 'BIND_NOW|FLAGS.*NOW' <<< "$dyn" || bad="$bad $name:no-BIND_NOW"
  grep 'GNU_STACK' <<< "$seg" | grep -q 'RWE' && bad="$bad $name:exec-stack"
  grep -q '__stack_chk_fail' <<< "$syms" || bad="$bad $name:no-stack-protector"
  grep -E '__[a-z0-9_]+_chk@' <<< "$syms" | grep -vq '__stack_chk_fail' || bad="$bad $name:not-fortified"
done
if [ $n -eq 0 ]; then echo "FAIL hardening_test.sh programs_hardened: no programs in $B/bin"
elif [ -z "$bad" ]; then echo "ok   hardening_test.sh programs_hardened ($n programs)"
else echo "FAIL hardening_test.sh programs_hardened:$bad"; fi
