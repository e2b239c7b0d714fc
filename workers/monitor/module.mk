# workers/monitor - txmail-monitor: live per-account counters (GET /email/v2/stats)
PROGRAMS += txmail-monitor
txmail-monitor_SRC := workers/monitor/monitor.c workers/monitor/monitor_count.c \
                      workers/monitor/monitor_db.c

UNIT_TESTS += monitor_count_test
monitor_count_test_SRC := workers/monitor/monitor_count_test.c workers/monitor/monitor_count.c
