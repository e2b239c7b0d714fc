/* timeutil - clocks and ISO-8601 timestamps. */
#ifndef TX_TIMEUTIL_H
#define TX_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* timeutil_now_ms - wall clock, milliseconds since the epoch */
int64_t timeutil_now_ms(void);
/* timeutil_mono_ms - monotonic clock in milliseconds (timeouts, latency) */
int64_t timeutil_mono_ms(void);
/* timeutil_iso8601 - "2025-05-14T08:55:50.817Z" (UTC, milliseconds); returns out */
char *timeutil_iso8601(char *out, size_t outsz, int64_t ms);
/*
 * timeutil_parse_iso8601 - parse "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm|-hh:mm)";
 * 0 and *ms on success, -1 on any deviation (date-only is refused).
 */
int timeutil_parse_iso8601(const char *s, int64_t *ms);
/*
 * timeutil_sql - "YYYY-MM-DD HH:MM:SS.mmm" of ms (UTC): MariaDB DATETIME(3)
 * text (out >= 24 bytes); returns out. Times before the epoch count
 * back (-1 is 1969-12-31 23:59:59.999); times outside DATETIME's range
 * (years 1000 to 9999) are clamped to its ends.
 */
char *timeutil_sql(char *out, size_t outsz, int64_t ms);
/* timeutil_day - "YYYY-MM-DD" of ms (UTC) into out (>= 11 bytes) */
char *timeutil_day(char *out, size_t outsz, int64_t ms);
/* timeutil_parse_duration - "500ms", "10s", "5m", "2h", "2d" or plain seconds; into ms */
int timeutil_parse_duration(const char *s, int64_t *ms);
/* timeutil_sleep_ms - sleep, restarting after signals only when restart is set */
void timeutil_sleep_ms(int64_t ms);

#endif
