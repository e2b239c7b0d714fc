/* monitor_count_test - what each event and intake record counts, and the merge of a batch */
#include "../../tests/harness/ttest.h"
#include "monitor.h"

#include <stdio.h>
#include <string.h>

#define RID "0f1e2d3c-4b5a-4968-8776-655443322110#00000000#00000001"

static void classify(const char *json, struct monitor_hit *h)
{
    monitor_count_classify(json, strlen(json), h);
}

static void ev(struct monitor_hit *h, const char *acct, const char *type, const char *sub)
{
    char j[512];

    snprintf(j, sizeof(j),
             "{\"v\":1,\"account\":%s,\"rid\":\"" RID
             "\",\"phase\":\"DELIVER\",\"state\":\"FINISHED\","
             "\"type\":\"%s\",\"subType\":\"%s\",\"ts\":\"2025-05-14T09:12:59.999Z\"}",
             acct, type, sub);
    classify(j, h);
}

TT_TEST(events)
{
    static const struct {
        const char *type, *sub, *counter; /* counter NULL: counts nothing */
    } t[] = {
        {"DELIVERED", "OK", "delivered"},
        {"DEFERRED", "SOFT_BOUNCE", "deferred"},
        {"DEFERRED", "THROTTLED", "deferred"},
        {"BOUNCED", "HARD_BOUNCE", "bounced.HARD_BOUNCE"},
        {"BOUNCED", "SOFT_BOUNCE", "bounced.SOFT_BOUNCE"},
        {"DROPPED", "PREVIOUSLY_BOUNCED", "dropped.PREVIOUSLY_BOUNCED"},
        {"DROPPED", "VIRUS_DETECTED", "dropped.VIRUS_DETECTED"},
        {"OPENED", "OK", "opened"},
        {"CLICKED", "OK", "clicked"},
        {"UNSUBSCRIBED", "OK", "unsubscribed"},
        {"FEEDBACK_LOOP", "COMPLAINT", "complaints"},
        {"STARTED", "PROCESSING_STARTED", NULL},
        {"PROCESSED", "PROCESSING_FINISHED", NULL},
        {"SPAM_SCORE_CHECK", "INFORMATION", NULL},
        {"TRACE_RECOVER_STORE", "OK", NULL},
    };
    struct monitor_hit h;

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ev(&h, "7", t[i].type, t[i].sub);
        if (t[i].counter == NULL) {
            TT_EQ_INT(h.kind, MONITOR_IGNORE);
            continue;
        }
        TT_EQ_INT(h.kind, MONITOR_COUNT);
        TT_EQ_STR(h.counter, t[i].counter);
        TT_EQ_INT(h.account, 7);
        TT_EQ_INT(h.n, 1);
        /* bucketed by ts: 09:12:59.999 is in the minute 09:12 */
        TT_EQ_INT(h.minute_ms, 1747213920000LL);
        TT_EQ_STR(h.job, "0f1e2d3c-4b5a-4968-8776-655443322110");
        TT_ASSERT(strncmp(h.key, "e:", 2) == 0 && strlen(h.key) == 66);
    }
}

TT_TEST(tracking_without_account)
{
    struct monitor_hit h;

    ev(&h, "0", "OPENED", "OK");
    TT_EQ_INT(h.kind, MONITOR_COUNT);
    TT_EQ_INT(h.account, 0); /* looked up from the job */
}

TT_TEST(intake)
{
    struct monitor_hit h;

    classify("{\"v\":1,\"type\":\"INTAKE\",\"phase\":\"INTAKE\",\"account\":3,"
             "\"job\":\"0f1e2d3c-4b5a-4968-8776-655443322110\",\"received\":1747213979000,"
             "\"recipients\":[{\"rid\":\"a\"},{\"rid\":\"b\"},{\"rid\":\"c\"}]}",
             &h);
    TT_EQ_INT(h.kind, MONITOR_COUNT);
    TT_EQ_STR(h.counter, "accepted");
    TT_EQ_INT(h.n, 3);
    TT_EQ_INT(h.account, 3);
    TT_EQ_INT(h.minute_ms, 1747213920000LL);
    TT_EQ_STR(h.key, "i:0f1e2d3c-4b5a-4968-8776-655443322110");
    classify("{\"type\":\"INTAKE\",\"account\":3,\"job\":\"x\",\"received\":1,\"recipients\":[]}",
             &h);
    TT_EQ_INT(h.kind, MONITOR_MALFORMED);
}

TT_TEST(hostile)
{
    struct monitor_hit h;

    classify("not json", &h);
    TT_EQ_INT(h.kind, MONITOR_MALFORMED);
    classify("[1,2]", &h);
    TT_EQ_INT(h.kind, MONITOR_MALFORMED);
    ev(&h, "\"7\"", "DELIVERED", "OK");
    TT_EQ_INT(h.kind, MONITOR_MALFORMED);
    ev(&h, "7", "DELIVERED", "ok lower");
    TT_EQ_INT(h.kind, MONITOR_MALFORMED);
    /* other programs' internal events are not ours */
    classify("{\"phase\":\"TEST\",\"type\":\"PING\"}", &h);
    TT_EQ_INT(h.kind, MONITOR_IGNORE);
}

TT_TEST(merge)
{
    struct monitor_agg a[] = {
        {2, 60000, "delivered", 1}, {1, 120000, "opened", 2},  {2, 60000, "delivered", 4},
        {1, 60000, "opened", 1},    {2, 60000, "accepted", 5}, {1, 120000, "opened", 1},
    };
    size_t n = monitor_count_merge(a, sizeof(a) / sizeof(a[0]));

    TT_EQ_INT(n, 4);
    TT_EQ_INT(a[0].account, 1);
    TT_EQ_INT(a[0].minute_ms, 60000);
    TT_EQ_INT(a[1].n, 3);
    TT_EQ_STR(a[2].counter, "accepted");
    TT_EQ_STR(a[3].counter, "delivered");
    TT_EQ_INT(a[3].n, 5);
    TT_EQ_INT(monitor_count_merge(a, 0), 0);
}

TT_MAIN(TT_CASE(events), TT_CASE(tracking_without_account), TT_CASE(intake), TT_CASE(hostile),
        TT_CASE(merge))
