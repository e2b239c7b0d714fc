# workers/securezip - txmail-securezip, Secure Document Handling (see securezip.c)
SECUREZIP_LIB_SRC := workers/securezip/securezip_pw.c workers/securezip/securezip_pack.c

PROGRAMS += txmail-securezip
txmail-securezip_SRC := workers/securezip/securezip.c $(SECUREZIP_LIB_SRC)

UNIT_TESTS += securezip_pw_test securezip_pack_test
securezip_pw_test_SRC := workers/securezip/securezip_pw_test.c workers/securezip/securezip_pw.c
securezip_pack_test_SRC := workers/securezip/securezip_pack_test.c $(SECUREZIP_LIB_SRC)
