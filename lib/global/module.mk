# lib/global - txmail semantics and wrappers over rabbitmq-c, MariaDB, jansson, OpenSSL
LIBGLOBAL_SRC += lib/global/txcode.c lib/global/ids.c lib/global/envelope.c \
                 lib/global/mq.c lib/global/db.c lib/global/event.c \
                 lib/global/txconf.c lib/global/metrics.c lib/global/worker.c \
                 lib/global/crypto.c lib/global/account.c lib/global/dnsq.c lib/global/addr.c \
                 lib/global/auth.c lib/global/intake.c
LIBGLOBAL_SRC += lib/global/httpguard.c
LIBGLOBAL_SRC += lib/global/authlimit.c

UNIT_TESTS += envelope_test ids_test event_test crypto_test addr_test
UNIT_TESTS += authlimit_test auth_test
authlimit_test_SRC := lib/global/authlimit_test.c
auth_test_SRC := lib/global/auth_test.c
addr_test_SRC := lib/global/addr_test.c
crypto_test_SRC := lib/global/crypto_test.c
envelope_test_SRC := lib/global/envelope_test.c
ids_test_SRC := lib/global/ids_test.c
event_test_SRC := lib/global/event_test.c
UNIT_TESTS += httpguard_test
httpguard_test_SRC := lib/global/httpguard_test.c

# netpolicy: the addresses tenant-driven connections may reach (notify, deliver)
LIBGLOBAL_SRC += lib/global/netpolicy.c
# netaddr: addresses from text and sockets, client groups, network lists
LIBGLOBAL_SRC += lib/global/netaddr.c
UNIT_TESTS += netaddr_test
netaddr_test_SRC := lib/global/netaddr_test.c
UNIT_TESTS += netpolicy_test
netpolicy_test_SRC := lib/global/netpolicy_test.c
# worker_job: the rules the skeleton applies around handle(), the first-stage rule among them
LIBGLOBAL_SRC += lib/global/worker_job.c lib/global/firststage.c
UNIT_TESTS += worker_job_test
worker_job_test_SRC := lib/global/worker_job_test.c
