# workers/bounce - txmail-bounce, acts on what comes back (see bounce.c)
BOUNCE_LIB_SRC := workers/bounce/bounce_job.c workers/bounce/bounce_target.c \
                  workers/bounce/bounce_act.c workers/bounce/bounce_fwd.c \
                  workers/bounce/bounce_rewrite.c workers/bounce/bounce_reply.c \
                  workers/bounce/bounce_virus.c

PROGRAMS += txmail-bounce
txmail-bounce_SRC := workers/bounce/bounce.c $(BOUNCE_LIB_SRC)

UNIT_TESTS += bounce_rewrite_test
bounce_rewrite_test_SRC := workers/bounce/bounce_rewrite_test.c workers/bounce/bounce_rewrite.c \
                           workers/bounce/bounce_fwd.c workers/bounce/bounce_act.c
txmail-bounce_LIBS := $(SCAN_LIBS)
