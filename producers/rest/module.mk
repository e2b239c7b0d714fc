# producers/rest - txmail-rest, the REST producer (contract §3-§7)
REST_JOBREQ_SRC := producers/rest/rest_jobreq.c producers/rest/rest_jobreq_walk.c \
                   producers/rest/rest_jobreq_syntax.c producers/rest/rest_jobreq_text.c \
                   producers/rest/rest_jobreq_attach.c producers/rest/rest_jobreq_rcpt.c \
                   producers/rest/rest_jobreq_mail.c producers/rest/rest_jobreq_job.c \
                   producers/rest/rest_jobreq_notify.c producers/rest/rest_jobreq_build.c

UNIT_TESTS += rest_jobreq_test
rest_jobreq_test_SRC := producers/rest/rest_jobreq_test.c $(REST_JOBREQ_SRC)
