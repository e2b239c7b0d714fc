# workers/spamcheck - txmail-spamcheck, the spam score check through spamd (see spamcheck.c)
PROGRAMS += txmail-spamcheck
txmail-spamcheck_SRC := workers/spamcheck/spamcheck.c workers/spamcheck/spamcheck_job.c

UNIT_TESTS += spamcheck_test
spamcheck_test_SRC := workers/spamcheck/spamcheck_test.c workers/spamcheck/spamcheck_job.c
