# workers/recorder - txmail-recorder: events and message state into MariaDB
PROGRAMS += txmail-recorder
txmail-recorder_SRC := workers/recorder/recorder.c workers/recorder/recorder_parse.c \
                       workers/recorder/recorder_db.c workers/recorder/recorder_state.c
# the batch consumer loop shared with txmail-notify; event completion from message rows
LIBGLOBAL_SRC += lib/global/batchloop.c lib/global/tagmap.c lib/global/eventfill.c
UNIT_TESTS += tagmap_test
tagmap_test_SRC := lib/global/tagmap_test.c

UNIT_TESTS += recorder_state_test
recorder_state_test_SRC := workers/recorder/recorder_state_test.c workers/recorder/recorder_state.c
UNIT_TESTS += recorder_parse_test
recorder_parse_test_SRC := workers/recorder/recorder_parse_test.c workers/recorder/recorder_parse.c \
                           workers/recorder/recorder_state.c
