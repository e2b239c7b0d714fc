# tests/testworker - a worker used by the skeleton's integration tests
PROGRAMS += txmail-testworker
txmail-testworker_SRC := tests/testworker/txmail-testworker.c
