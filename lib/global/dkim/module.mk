# lib/global/dkim - DKIM signatures (RFC 6376, RFC 8463) with OpenSSL:
# txmail-render signs every copy, txmail-smime signs again after S/MIME
LIBGLOBAL_SRC += lib/global/dkim/dkim.c lib/global/dkim/dkim_store.c
UNIT_TESTS += dkim_test
dkim_test_SRC := lib/global/dkim/dkim_test.c
