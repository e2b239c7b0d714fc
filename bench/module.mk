# bench - benchmark tools (make bench; never part of make test)
PROGRAMS += txmail-loadgen
txmail-loadgen_SRC := bench/txmail-loadgen.c
