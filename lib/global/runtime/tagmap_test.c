/* tagmap_test - broker acks from acks of parts */
#include "tests/harness/ttest.h"
#include "global/runtime/tagmap.h"

#include <stdio.h>
#include <string.h>

static char acks[512];

static void rec(void *ctx, uint64_t tag, int multiple)
{
    (void)ctx;
    size_t n = strlen(acks);
    snprintf(acks + n, sizeof(acks) - n, "%s%llu%s", n ? " " : "", (unsigned long long)tag,
             multiple ? "+" : "");
}

TT_TEST(single_parts_ack_in_order)
{
    struct tagmap *tm = tagmap_new(rec, NULL);

    acks[0] = 0;
    TT_EQ_INT((int)tagmap_add(tm, 10, 1), 1);
    TT_EQ_INT((int)tagmap_add(tm, 11, 1), 2);
    TT_EQ_INT((int)tagmap_add(tm, 12, 1), 3);
    tagmap_ack(tm, 1);
    TT_EQ_STR(acks, "10+");
    tagmap_ack_upto(tm, 3);
    TT_EQ_STR(acks, "10+ 12+");
    TT_EQ_INT(tagmap_pending(tm), 0);
    tagmap_free(tm);
}

TT_TEST(split_message_acked_when_every_part_is)
{
    struct tagmap *tm = tagmap_new(rec, NULL);

    acks[0] = 0;
    TT_EQ_INT((int)tagmap_add(tm, 5, 3), 1); /* parts 1, 2, 3 */
    TT_EQ_INT((int)tagmap_add(tm, 6, 1), 4);
    tagmap_ack(tm, 1);
    tagmap_ack(tm, 3);
    TT_EQ_STR(acks, "");
    tagmap_ack(tm, 3);  /* repeated: ignored */
    tagmap_ack(tm, 99); /* unknown: ignored */
    TT_EQ_STR(acks, "");
    tagmap_ack(tm, 2);
    TT_EQ_STR(acks, "5+");
    TT_EQ_INT(tagmap_pending(tm), 1);
    tagmap_ack(tm, 4);
    TT_EQ_STR(acks, "5+ 6+");
    tagmap_free(tm);
}

TT_TEST(part_in_hand_does_not_hold_back_later_messages)
{
    struct tagmap *tm = tagmap_new(rec, NULL);

    acks[0] = 0;
    tagmap_add(tm, 1, 2); /* 1, 2 */
    tagmap_add(tm, 2, 1); /* 3 */
    tagmap_add(tm, 3, 2); /* 4, 5 */
    tagmap_ack(tm, 2);
    tagmap_ack(tm, 3);
    TT_EQ_STR(acks, "2");   /* single ack behind part 1 */
    tagmap_ack_upto(tm, 5); /* settles 1, 4, 5 */
    TT_EQ_STR(acks, "2 3+");
    TT_EQ_INT(tagmap_pending(tm), 0);
    tagmap_free(tm);
}

TT_TEST(multiple_ack_never_names_an_acked_tag)
{
    struct tagmap *tm = tagmap_new(rec, NULL);

    acks[0] = 0;
    tagmap_add(tm, 1, 2); /* 1, 2 */
    tagmap_add(tm, 2, 1); /* 3 */
    tagmap_ack(tm, 3);
    TT_EQ_STR(acks, "2");
    tagmap_ack(tm, 1);
    tagmap_ack(tm, 2); /* front run 1, 2 settled: 2 is acked */
    TT_EQ_STR(acks, "2 1+");
    TT_EQ_INT(tagmap_pending(tm), 0);
    tagmap_add(tm, 3, 1); /* 4 */
    tagmap_add(tm, 4, 1); /* 5 */
    tagmap_ack(tm, 5);
    tagmap_ack_upto(tm, 5); /* 3 unacked, 4 acked: "3+" */
    TT_EQ_STR(acks, "2 1+ 4 3+");
    tagmap_free(tm);
}

TT_TEST(upto_inside_a_message_and_reset)
{
    struct tagmap *tm = tagmap_new(rec, NULL);

    acks[0] = 0;
    tagmap_add(tm, 7, 4); /* 1..4 */
    tagmap_ack_upto(tm, 2);
    TT_EQ_STR(acks, "");
    tagmap_ack(tm, 4);
    tagmap_ack_upto(tm, 3);
    TT_EQ_STR(acks, "7+");
    tagmap_add(tm, 8, 2); /* 5, 6 */
    tagmap_reset(tm);
    TT_EQ_INT(tagmap_pending(tm), 0);
    tagmap_ack_upto(tm, 6); /* stale: nothing */
    TT_EQ_STR(acks, "7+");
    /* local tags go on ascending after a reset */
    TT_EQ_INT((int)tagmap_add(tm, 1, 1), 7);
    tagmap_free(tm);
}

TT_TEST(many_messages_compact)
{
    struct tagmap *tm = tagmap_new(rec, NULL);
    int nacks = 0;

    for (uint64_t b = 1; b <= 10000; b++) {
        uint64_t v = tagmap_add(tm, b, (int)(b % 3) + 1);
        acks[0] = 0;
        for (int p = (int)(b % 3); p >= 0; p--)
            tagmap_ack(tm, v + (uint64_t)p);
        nacks += acks[0] != 0;
        TT_EQ_INT(tagmap_pending(tm), 0);
    }
    TT_EQ_INT(nacks, 10000);
    tagmap_free(tm);
}

TT_MAIN(TT_CASE(single_parts_ack_in_order), TT_CASE(split_message_acked_when_every_part_is),
        TT_CASE(part_in_hand_does_not_hold_back_later_messages),
        TT_CASE(multiple_ack_never_names_an_acked_tag), TT_CASE(upto_inside_a_message_and_reset),
        TT_CASE(many_messages_compact))
