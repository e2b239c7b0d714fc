# lib/global/inbound - what arrives at txmail's inbound side (the MX of the
# bounce domains): which account and recipient id a recipient address stands for
LIBGLOBAL_SRC += lib/global/inbound/inboundaddr.c
UNIT_TESTS += inboundaddr_test
inboundaddr_test_SRC := lib/global/inbound/inboundaddr_test.c
