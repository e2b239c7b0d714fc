# workers/recorder - txmail-recorder: events and message state into MariaDB
PROGRAMS += txmail-recorder
txmail-recorder_SRC := workers/recorder/recorder.c workers/recorder/recorder_parse.c \
                       workers/recorder/recorder_db.c workers/recorder/recorder_state.c
# event completion from message rows (shared with txmail-notify)
LIBGLOBAL_SRC += lib/global/eventfill.c

UNIT_TESTS += recorder_state_test
recorder_state_test_SRC := workers/recorder/recorder_state_test.c workers/recorder/recorder_state.c
UNIT_TESTS += recorder_parse_test
recorder_parse_test_SRC := workers/recorder/recorder_parse_test.c workers/recorder/recorder_parse.c \
                           workers/recorder/recorder_state.c
