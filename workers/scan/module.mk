# workers/scan - txmail-scan, the antivirus stage (see scan.c)
SCAN_STAGE_SRC := workers/scan/scan_job.c workers/scan/scan_emit.c

PROGRAMS += txmail-scan
txmail-scan_SRC := workers/scan/scan.c $(SCAN_STAGE_SRC)
txmail-scan_LIBS := $(SCAN_LIBS) $(YARA_LIBS)

UNIT_TESTS += scan_job_test
scan_job_test_SRC := workers/scan/scan_job_test.c workers/scan/scan_job.c
scan_job_test_LIBS := $(SCAN_LIBS) $(YARA_LIBS)

# scan_bench: both engines on the benchmark's 200 KB job in one thread (bench/bench_scan.py)
PROGRAMS += scan_bench
scan_bench_SRC := workers/scan/scan_bench.c workers/scan/scan_job.c
scan_bench_LIBS := $(SCAN_LIBS) $(YARA_LIBS)
