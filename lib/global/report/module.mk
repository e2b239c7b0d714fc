# lib/global/report - the daily CSV reports (contract §14): rows, CSV syntax,
# storage in MariaDB, ZIP; shared by txmail-report, txmail-rest and txmailctl
LIBGLOBAL_SRC += lib/global/report/reportcsv.c lib/global/report/reportrow.c \
                 lib/global/report/reportstore.c lib/global/report/reportzip.c \
                 lib/global/report/reportjob.c

UNIT_TESTS += reportcsv_test
reportcsv_test_SRC := lib/global/report/reportcsv_test.c
