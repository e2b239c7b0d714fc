# admin/exporter - txmail-exporter: every program's metrics textfile on one Prometheus endpoint
PROGRAMS += txmail-exporter
txmail-exporter_SRC := admin/exporter/exporter.c admin/exporter/exporter_merge.c

UNIT_TESTS += exporter_merge_test
exporter_merge_test_SRC := admin/exporter/exporter_merge_test.c admin/exporter/exporter_merge.c
