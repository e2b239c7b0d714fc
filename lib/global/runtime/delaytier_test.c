/* delaytier_test - schedules (last repeats, bad specs), tier choice, due chaining */
#include "tests/harness/ttest.h"
#include "global/runtime/delaytier.h"

TT_TEST(schedule_parse_and_repeat)
{
    struct delaytier_schedule s;

    TT_EQ_INT(delaytier_parse(&s, "10s, 1m,5m"), 0);
    TT_EQ_INT(s.n, 3);
    TT_EQ_INT(delaytier_delay(&s, -1), 10000);
    TT_EQ_INT(delaytier_delay(&s, 0), 10000);
    TT_EQ_INT(delaytier_delay(&s, 1), 60000);
    TT_EQ_INT(delaytier_delay(&s, 2), 300000);
    TT_EQ_INT(delaytier_delay(&s, 3), 300000);
    TT_EQ_INT(delaytier_delay(&s, 1000), 300000);
}

TT_TEST(schedule_refused)
{
    struct delaytier_schedule s;
    char many[400];
    size_t n = 0;

    TT_EQ_INT(delaytier_parse(&s, ""), -1);
    TT_EQ_INT(s.n, 0);
    TT_EQ_INT(delaytier_parse(&s, "500ms"), -1); /* under 1 s */
    TT_EQ_INT(delaytier_parse(&s, "10s,soon"), -1);
    TT_EQ_INT(s.n, 0);
    for (int i = 0; i < DELAYTIER_SCHEDULE_MAX; i++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, "1s,");
    TT_EQ_INT(delaytier_parse(&s, many), 0);
    TT_EQ_INT(s.n, DELAYTIER_SCHEDULE_MAX);
    snprintf(many + n, sizeof(many) - n, "2s");
    TT_EQ_INT(delaytier_parse(&s, many), -1); /* one too many */
}

TT_TEST(tier_choice)
{
    int64_t ms;

    TT_EQ_STR(delaytier_for(0, &ms), "1s"); /* shorter than any: the shortest */
    TT_EQ_INT(ms, 1000);
    TT_EQ_STR(delaytier_for(4999, &ms), "1s");
    TT_EQ_STR(delaytier_for(5000, &ms), "5s");
    TT_EQ_INT(ms, 5000);
    TT_EQ_STR(delaytier_for(7200000, &ms), "1h");
    TT_EQ_INT(ms, 3600000);
    TT_EQ_STR(delaytier_for(86400000, &ms), "4h"); /* longer than any: the longest */
    TT_EQ_INT(ms, 14400000);
}

TT_TEST(due_chaining)
{
    TT_EQ_INT(delaytier_left(0, 1000000), 0);       /* no due: now */
    TT_EQ_INT(delaytier_left(1000250, 1000000), 0); /* within the early margin */
    TT_EQ_INT(delaytier_left(1000251, 1000000), 251);
    TT_EQ_INT(delaytier_left(1007200000, 1000000), 1006200000); /* a long wait: chain on */
}

TT_MAIN(TT_CASE(schedule_parse_and_repeat), TT_CASE(schedule_refused), TT_CASE(tier_choice),
        TT_CASE(due_chaining))
