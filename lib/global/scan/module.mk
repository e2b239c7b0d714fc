# lib/global/scan - ClamAV (scan.h) and YARA (yarascan.h) in the process,
# and the MIME part walk of content checks (mimeparts.h). libclamav and
# libyara are linked only into the programs that use them:
# <prog>_LIBS += $(SCAN_LIBS) $(YARA_LIBS)
SCAN_LIBS := $(shell pkg-config --libs libclamav 2>/dev/null)
YARA_LIBS := $(shell pkg-config --libs yara 2>/dev/null)
LIBGLOBAL_SRC += lib/global/scan/scan.c lib/global/scan/yarascan.c lib/global/scan/mimeparts.c
UNIT_TESTS += scan_test yarascan_test mimeparts_test
scan_test_SRC := lib/global/scan/scan_test.c
scan_test_LIBS := $(SCAN_LIBS)
yarascan_test_SRC := lib/global/scan/yarascan_test.c
yarascan_test_LIBS := $(SCAN_LIBS) $(YARA_LIBS)
mimeparts_test_SRC := lib/global/scan/mimeparts_test.c
