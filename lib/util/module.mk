# lib/util - generic C: logging, allocation, bounded buffers, config, time, codecs, containers (hash, ttlcache, fifo), JSON member reads
LIBUTIL_SRC += lib/util/msg.c lib/util/mymalloc.c lib/util/buf.c \
               lib/util/timeutil.c lib/util/cfg.c lib/util/codec.c \
               lib/util/hash.c lib/util/ttlcache.c lib/util/fifo.c lib/util/jsonget.c

UNIT_TESTS += codec_test buf_test cfg_test timeutil_test hash_test ttlcache_test fifo_test \
              jsonget_test
codec_test_SRC := lib/util/codec_test.c
buf_test_SRC := lib/util/buf_test.c
cfg_test_SRC := lib/util/cfg_test.c
timeutil_test_SRC := lib/util/timeutil_test.c
hash_test_SRC := lib/util/hash_test.c
ttlcache_test_SRC := lib/util/ttlcache_test.c
fifo_test_SRC := lib/util/fifo_test.c
jsonget_test_SRC := lib/util/jsonget_test.c
