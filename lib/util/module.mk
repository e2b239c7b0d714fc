# lib/util - generic C: logging, allocation, bounded buffers, config, time, codecs
LIBUTIL_SRC += lib/util/msg.c lib/util/mymalloc.c lib/util/buf.c \
               lib/util/timeutil.c lib/util/cfg.c lib/util/codec.c

UNIT_TESTS += codec_test buf_test cfg_test timeutil_test
codec_test_SRC := lib/util/codec_test.c
buf_test_SRC := lib/util/buf_test.c
cfg_test_SRC := lib/util/cfg_test.c
timeutil_test_SRC := lib/util/timeutil_test.c
