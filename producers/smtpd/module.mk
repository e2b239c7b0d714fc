# producers/smtpd - txmail-smtpd, the SMTP submission server (contract §17)
PROGRAMS += txmail-smtpd
txmail-smtpd_SRC := producers/smtpd/smtpd.c producers/smtpd/smtpd_server.c \
                    producers/smtpd/smtpd_session.c producers/smtpd/smtpd_cmd.c \
                    producers/smtpd/smtpd_auth.c producers/smtpd/smtpd_tls.c \
                    producers/smtpd/smtpd_data.c producers/smtpd/smtpd_mime.c \
                    producers/smtpd/smtpd_headers.c producers/smtpd/smtpd_job.c \
                    producers/smtpd/smtpd_queue.c producers/smtpd/smtpd_msghdr.c \
                    producers/smtpd/smtpd_inbound.c

UNIT_TESTS += smtpd_data_test smtpd_mime_test smtpd_headers_test smtpd_msghdr_test
smtpd_data_test_SRC := producers/smtpd/smtpd_data_test.c producers/smtpd/smtpd_data.c
smtpd_mime_test_SRC := producers/smtpd/smtpd_mime_test.c producers/smtpd/smtpd_mime.c
smtpd_headers_test_SRC := producers/smtpd/smtpd_headers_test.c producers/smtpd/smtpd_headers.c \
                          producers/smtpd/smtpd_mime.c
smtpd_msghdr_test_SRC := producers/smtpd/smtpd_msghdr_test.c producers/smtpd/smtpd_msghdr.c \
                         producers/smtpd/smtpd_mime.c producers/smtpd/smtpd_headers.c
