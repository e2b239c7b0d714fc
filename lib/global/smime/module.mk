# lib/global/smime - S/MIME signing with OpenSSL CMS (smime.h): txmail-smime
# signs, txmailctl checks the certificates it stores
LIBGLOBAL_SRC += lib/global/smime/smime_cert.c lib/global/smime/smime_sign.c
UNIT_TESTS += smime_test
smime_test_SRC := lib/global/smime/smime_test.c
