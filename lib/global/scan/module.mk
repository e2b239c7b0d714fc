# lib/global/scan - ClamAV in the process (scan.h). libclamav is linked only
# into the programs that use it: <prog>_LIBS += $(SCAN_LIBS)
SCAN_LIBS := $(shell pkg-config --libs libclamav 2>/dev/null)
LIBGLOBAL_SRC += lib/global/scan/scan.c
UNIT_TESTS += scan_test
scan_test_SRC := lib/global/scan/scan_test.c
scan_test_LIBS := $(SCAN_LIBS)
