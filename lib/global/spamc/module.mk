# lib/global/spamc - a spamd client (SPAMC/1.5 over TCP) and the bounded
# parser of spamd's answer (spamc.h)
LIBGLOBAL_SRC += lib/global/spamc/spamc.c lib/global/spamc/spamc_reply.c
UNIT_TESTS += spamc_test
spamc_test_SRC := lib/global/spamc/spamc_test.c
