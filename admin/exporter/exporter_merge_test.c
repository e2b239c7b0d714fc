/* exporter_merge_test - merging the textfiles of several processes into one exposition */
#include "../../tests/harness/ttest.h"
#include "exporter.h"

#include <string.h>

static const char rec[] =
    "# TYPE txmail_up gauge\n"
    "txmail_up{program=\"recorder\",pid=\"11\"} 1\n"
    "# TYPE txmail_recorder_events_total counter\n"
    "txmail_recorder_events_total{program=\"recorder\",pid=\"11\",outcome=\"recorded\"} 5\n"
    "txmail_recorder_events_total{program=\"recorder\",pid=\"11\",outcome=\"dead\"} 0\n"
    "# TYPE txmail_latency_seconds histogram\n"
    "txmail_latency_seconds_bucket{program=\"recorder\",pid=\"11\",le=\"+Inf\"} 2\n"
    "txmail_latency_seconds_sum{program=\"recorder\",pid=\"11\"} 0.5\n"
    "txmail_latency_seconds_count{program=\"recorder\",pid=\"11\"} 2\n";

/* an older file without TYPE lines nor pid labels */
static const char old[] = "txmail_up{program=\"render\"} 1\n"
                          "txmail_render_jobs_total{program=\"render\",outcome=\"ok\"} 3\n"
                          "# TYPE txmail_latency_seconds histogram\n"
                          "txmail_latency_seconds_bucket{program=\"render\",le=\"+Inf\"} 1\n"
                          "txmail_latency_seconds_count{program=\"render\"} 1 1700000000000\n";

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

TT_TEST(merge_two)
{
    struct exporter_set *s = exporter_merge_create();
    struct buf out = BUF_INIT(1 << 20);

    TT_EQ_INT(exporter_merge_text(s, rec, strlen(rec), "recorder", 11), 0);
    TT_EQ_INT(exporter_merge_text(s, old, strlen(old), "render", 22), 0);
    exporter_merge_render(s, &out);
    const char *o = buf_ptr(&out);
    TT_EQ_INT(count(o, "# TYPE txmail_up gauge\n"), 1);
    TT_EQ_INT(count(o, "# TYPE txmail_latency_seconds histogram\n"), 1);
    TT_EQ_INT(count(o, "# TYPE txmail_render_jobs_total untyped\n"), 1);
    TT_ASSERT(strstr(o, "txmail_up{program=\"render\",pid=\"22\"} 1\n") != NULL);
    TT_ASSERT(strstr(o, "txmail_recorder_events_total{program=\"recorder\",pid=\"11\","
                        "outcome=\"dead\"} 0\n") != NULL);
    TT_ASSERT(strstr(o, "txmail_latency_seconds_count{program=\"render\",pid=\"22\"} 1 "
                        "1700000000000\n") != NULL);
    /* the histogram's samples stay together under its one TYPE */
    const char *t = strstr(o, "# TYPE txmail_latency_seconds histogram\n");
    const char *r = strstr(o, "# TYPE txmail_recorder_events_total");
    TT_ASSERT(t && r && t < r && strstr(t, "render\",pid=\"22\",le=") < r);
    TT_EQ_INT(s->samples, 10);
    /* the same file again: every series is there already */
    TT_EQ_INT(exporter_merge_text(s, rec, strlen(rec), "recorder", 11), 0);
    TT_EQ_INT(s->duplicates, 6);
    buf_free(&out);
    exporter_merge_free(s);
}

TT_TEST(rejects)
{
    static const char bad[] = "# TYPE txmail_up counter\n"     /* another type than the set's */
                              "txmail_up{program=\"odd\"} 1\n" /* ... so its samples too */
                              "txmail_x{program=\"a\" 1\n"     /* unterminated labels */
                              "txmail_y{a=\"b\\q\"} 1\n"       /* bad escape */
                              "txmail_z 1 2 3\n"               /* junk after the timestamp */
                              "9bad 1\n"                       /* not a name */
                              "txmail_w{a=\"1\"}\n"            /* no value */
                              "# TYPE txmail_v sometype\n"     /* unknown type */
                              "# some comment\n"
                              "txmail_ok{a=\"x\\\"y\"} +Inf\n";
    struct exporter_set *s = exporter_merge_create();
    struct buf out = BUF_INIT(1 << 20);

    exporter_merge_text(s, rec, strlen(rec), "recorder", 11);
    TT_EQ_INT(exporter_merge_text(s, bad, strlen(bad), "odd", 33), 8);
    exporter_merge_render(s, &out);
    TT_ASSERT(strstr(buf_ptr(&out), "txmail_ok{program=\"odd\",pid=\"33\",a=\"x\\\"y\"} +Inf\n"));
    TT_EQ_INT(count(buf_ptr(&out), "# TYPE txmail_up "), 1);
    TT_ASSERT(strstr(buf_ptr(&out), "txmail_up{program=\"odd\"") == NULL);
    buf_free(&out);
    exporter_merge_free(s);
}

TT_TEST(majority_type)
{
    static const char odd[] = "# TYPE txmail_inflight counter\ntxmail_inflight 5\n";
    static const char a[] = "# TYPE txmail_inflight gauge\ntxmail_inflight 1\n";
    struct exporter_set *s = exporter_merge_create();
    struct buf out = BUF_INIT(1 << 20);

    /* the odd file comes first, but two files say gauge */
    exporter_merge_vote(s, odd, strlen(odd));
    exporter_merge_vote(s, a, strlen(a));
    exporter_merge_vote(s, a, strlen(a));
    exporter_merge_decide(s);
    TT_EQ_INT(exporter_merge_text(s, odd, strlen(odd), "odd", 1), 2);
    TT_EQ_INT(exporter_merge_text(s, a, strlen(a), "render", 2), 0);
    TT_EQ_INT(exporter_merge_text(s, a, strlen(a), "deliver", 3), 0);
    exporter_merge_render(s, &out);
    TT_EQ_STR(buf_ptr(&out), "# TYPE txmail_inflight gauge\n"
                             "txmail_inflight{program=\"render\",pid=\"2\"} 1\n"
                             "txmail_inflight{program=\"deliver\",pid=\"3\"} 1\n");
    buf_free(&out);
    exporter_merge_free(s);
}

TT_MAIN(TT_CASE(merge_two), TT_CASE(rejects), TT_CASE(majority_type))
