# workers/deliver - outbound SMTP delivery (see deliver.c)
DELIVER_LIB_SRC := workers/deliver/deliver_reply.c workers/deliver/deliver_dot.c \
                   workers/deliver/deliver_net.c workers/deliver/deliver_tls.c \
                   workers/deliver/deliver_session.c workers/deliver/deliver_pool.c \
                   workers/deliver/deliver_dns.c workers/deliver/deliver_route.c \
                   workers/deliver/deliver_send.c \
                   workers/deliver/deliver_record.c \
                   workers/deliver/deliver_dest.c workers/deliver/deliver_job.c \
                   workers/deliver/deliver_outcome.c workers/deliver/deliver_forward.c \
                   workers/deliver/deliver_pwmail.c

PROGRAMS += txmail-deliver
txmail-deliver_SRC := workers/deliver/deliver.c $(DELIVER_LIB_SRC)
txmail-deliver_LIBS := -lresolv

UNIT_TESTS += deliver_reply_test deliver_dot_test deliver_route_test deliver_dest_test
deliver_reply_test_SRC := workers/deliver/deliver_reply_test.c workers/deliver/deliver_reply.c \
                          workers/deliver/deliver_route.c
deliver_dot_test_SRC := workers/deliver/deliver_dot_test.c workers/deliver/deliver_dot.c
deliver_route_test_SRC := workers/deliver/deliver_route_test.c workers/deliver/deliver_route.c
deliver_dest_test_SRC := workers/deliver/deliver_dest_test.c workers/deliver/deliver_dest.c
