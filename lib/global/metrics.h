/*
 * metrics - Prometheus counters, gauges and one latency histogram per
 * program, exposed as a textfile (node_exporter textfile-collector format)
 * in metrics_dir/<prog>-<pid>.prom, rewritten atomically by
 * metrics_flush(); producers also serve metrics_render() over HTTP.
 * The file's mtime doubles as a heartbeat (health: fresh within 3
 * flush intervals). Thread-safe.
 */
#ifndef TX_METRICS_H
#define TX_METRICS_H

#include "util/buf.h"
#include <stdint.h>

/* metrics_count - add n to counter name{label="value"} (label may be NULL) */
void metrics_count(const char *name, const char *label, const char *value, long long n);
/* metrics_gauge - set gauge name to v */
void metrics_gauge(const char *name, double v);
/* metrics_latency - record one duration in ms into txmail_latency_seconds */
void metrics_latency(int64_t ms);
/* metrics_render - append the exposition text to out */
void metrics_render(struct buf *out);
/* metrics_flush - write the textfile when metrics_dir is set */
void metrics_flush(void);
/* metrics_remove - delete the textfile (clean shutdown) */
void metrics_remove(void);

#endif
