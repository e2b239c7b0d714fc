/* timeutil - clocks and timestamps; see timeutil.h. */
#include "util/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t timeutil_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t timeutil_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *timeutil_iso8601(char *out, size_t outsz, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms < 0)
        t = 0, ms = 0;
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return out;
}

/* DATETIME's range: 1000-01-01 00:00:00.000 to 9999-12-31 23:59:59.999 */
#define SQL_MIN_MS (-30610224000LL * 1000)
#define SQL_MAX_MS (253402300799LL * 1000 + 999)

char *timeutil_sql(char *out, size_t outsz, int64_t ms)
{
    int64_t sec, frac;
    time_t t;
    struct tm tm;

    if (ms < SQL_MIN_MS)
        ms = SQL_MIN_MS;
    if (ms > SQL_MAX_MS)
        ms = SQL_MAX_MS;
    sec = ms / 1000;
    frac = ms % 1000;
    if (frac < 0) {
        sec--;
        frac += 1000;
    }
    t = (time_t)sec;
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    return out;
}

char *timeutil_day(char *out, size_t outsz, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return out;
}

/* digits - read exactly n decimal digits */
static int digits(const char **sp, int n, int *val)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*sp)[i]))
            return -1;
        v = v * 10 + ((*sp)[i] - '0');
    }
    *sp += n;
    *val = v;
    return 0;
}

static int expect(const char **sp, char c)
{
    if (**sp != c)
        return -1;
    (*sp)++;
    return 0;
}

int timeutil_parse_iso8601(const char *s, int64_t *ms)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, frac = 0, off = 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) || expect(&s, '-') ||
        digits(&s, 2, &d) || expect(&s, 'T') || digits(&s, 2, &h) || expect(&s, ':') ||
        digits(&s, 2, &mi) || expect(&s, ':') || digits(&s, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (*s == '.') {
        int n = 0, scale = 100;

        s++;
        while (isdigit((unsigned char)*s)) {
            if (n < 3)
                frac += (*s - '0') * scale, scale /= 10;
            n++, s++;
        }
        if (n == 0 || n > 9)
            return -1;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s == '-' ? -1 : 1, oh, om;

        s++;
        if (digits(&s, 2, &oh) || expect(&s, ':') || digits(&s, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = sign * (oh * 60 + om);
    } else {
        return -1;
    }
    if (*s)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    /* reject dates that timegm normalised (Feb 30, Feb 29 in a common year) */
    struct tm chk;
    gmtime_r(&t, &chk);
    if (chk.tm_mday != d && sec != 60)
        return -1;
    *ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
    return 0;
}

int timeutil_parse_duration(const char *s, int64_t *ms)
{
    char *end;
    long long v;
    int64_t mult = 1000;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (*end == 0 || strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else if (strcmp(end, "h") == 0)
        mult = 3600000;
    else if (strcmp(end, "d") == 0)
        mult = 86400000;
    else
        return -1;
    if (v > INT64_MAX / mult)
        return -1;
    *ms = v * mult;
    return 0;
}

void timeutil_sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}
