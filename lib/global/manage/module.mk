# lib/global/manage - what txmail-rest and txmailctl share to manage an
# account's suppression list and notification dead letters (contract §13,
# §11.2); webhook: the POST pieces txmail-notify and the redelivery share
LIBGLOBAL_SRC += lib/global/manage/webhook.c lib/global/manage/supplist.c \
                 lib/global/manage/suppcsv.c lib/global/manage/deadletter.c
UNIT_TESTS += suppcsv_test
suppcsv_test_SRC := lib/global/manage/suppcsv_test.c
UNIT_TESTS += webhook_test
webhook_test_SRC := lib/global/manage/webhook_test.c

# suppclass - the suppression class of a bounce (deliver, the bounce worker)
LIBGLOBAL_SRC += lib/global/manage/suppclass.c
UNIT_TESTS += suppclass_test
suppclass_test_SRC := lib/global/manage/suppclass_test.c
