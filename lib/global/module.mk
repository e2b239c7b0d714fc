# lib/global - txmail semantics and wrappers over rabbitmq-c, MariaDB, jansson, OpenSSL
LIBGLOBAL_SRC += lib/global/txcode.c lib/global/ids.c lib/global/envelope.c \
                 lib/global/runtime/mq.c lib/global/db.c lib/global/event.c \
                 lib/global/txconf.c lib/global/metrics.c lib/global/runtime/worker.c \
                 lib/global/crypto.c lib/global/account.c lib/global/dnsq.c lib/global/addr.c \
                 lib/global/access/auth.c lib/global/intake/intake.c \
                 lib/global/intake/acceptance.c
# mq_declare: the broker topology (mq.c: connections, publishing, consuming)
LIBGLOBAL_SRC += lib/global/runtime/mq_declare.c
LIBGLOBAL_SRC += lib/global/access/httpguard.c
LIBGLOBAL_SRC += lib/global/access/authlimit.c

UNIT_TESTS += envelope_test ids_test event_test crypto_test addr_test
UNIT_TESTS += authlimit_test auth_test
authlimit_test_SRC := lib/global/access/authlimit_test.c
auth_test_SRC := lib/global/access/auth_test.c
addr_test_SRC := lib/global/addr_test.c
crypto_test_SRC := lib/global/crypto_test.c
envelope_test_SRC := lib/global/envelope_test.c
ids_test_SRC := lib/global/ids_test.c
event_test_SRC := lib/global/event_test.c
UNIT_TESTS += httpguard_test
httpguard_test_SRC := lib/global/access/httpguard_test.c

# netpolicy: the addresses tenant-driven connections may reach (notify, deliver)
LIBGLOBAL_SRC += lib/global/access/netpolicy.c
# netaddr: addresses from text and sockets, client groups, network lists
LIBGLOBAL_SRC += lib/global/access/netaddr.c
UNIT_TESTS += netaddr_test
netaddr_test_SRC := lib/global/access/netaddr_test.c
UNIT_TESTS += netpolicy_test
netpolicy_test_SRC := lib/global/access/netpolicy_test.c
# worker_job: the rules the skeleton applies around handle(), the first-stage rule among them
LIBGLOBAL_SRC += lib/global/runtime/worker_job.c lib/global/intake/firststage.c
UNIT_TESTS += worker_job_test
worker_job_test_SRC := lib/global/runtime/worker_job_test.c
# slip: routing slips and the installed stages (txmail-rest, txmail-smtpd)
LIBGLOBAL_SRC += lib/global/intake/slip.c
UNIT_TESTS += slip_test
slip_test_SRC := lib/global/intake/slip_test.c
# suppress: the suppression list lookup (txmail-rest, txmail-smtpd, txmail-deliver)
LIBGLOBAL_SRC += lib/global/intake/suppress.c
UNIT_TESTS += suppress_test
suppress_test_SRC := lib/global/intake/suppress_test.c
# senderdomain: the sender-domain record and its one cache (rest, smtpd, render, deliver)
LIBGLOBAL_SRC += lib/global/intake/senderdomain.c
# delaytier: retry schedules and the broker's delay tiers (worker skeleton, notify)
LIBGLOBAL_SRC += lib/global/runtime/delaytier.c
UNIT_TESTS += delaytier_test
delaytier_test_SRC := lib/global/runtime/delaytier_test.c
# evbatch: the event-batch wire format (encoder and decoder)
LIBGLOBAL_SRC += lib/global/runtime/evbatch.c
UNIT_TESTS += evbatch_test
evbatch_test_SRC := lib/global/runtime/evbatch_test.c
# mqpub: confirmed publishing (producers, worker skeleton, batch programs)
LIBGLOBAL_SRC += lib/global/runtime/mqpub.c
UNIT_TESTS += mqpub_test
mqpub_test_SRC := lib/global/runtime/mqpub_test.c
# batchloop: the broker runtime (every consumer); tagmap: acks of split deliveries
LIBGLOBAL_SRC += lib/global/runtime/batchloop.c lib/global/runtime/tagmap.c \
                 lib/global/runtime/dbbackoff.c
UNIT_TESTS += tagmap_test
tagmap_test_SRC := lib/global/runtime/tagmap_test.c
# the worker skeleton's parts (worker.c: threads and the runtime program)
LIBGLOBAL_SRC += lib/global/runtime/worker_settle.c lib/global/runtime/worker_confirm.c
# xheader: caller header names (contract §8.7), shared by rest and render
LIBGLOBAL_SRC += lib/global/xheader.c
UNIT_TESTS += xheader_test
xheader_test_SRC := lib/global/xheader_test.c
