# workers/notify - txmail-notify: webhooks (contract §11)
PROGRAMS += txmail-notify
txmail-notify_SRC := workers/notify/notify.c workers/notify/notify_ctx.c \
                     workers/notify/notify_http.c workers/notify/notify_attempt.c \
                     workers/notify/notify_retry.c \
                     workers/notify/notify_sign.c workers/notify/notify_dns.c

UNIT_TESTS += notify_test
notify_test_SRC := workers/notify/notify_test.c workers/notify/notify_sign.c
