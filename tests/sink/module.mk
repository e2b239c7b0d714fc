# tests/sink - the SMTP sink of the local stack and the tests
PROGRAMS += txmail-sink
txmail-sink_SRC := tests/sink/txmail-sink.c
