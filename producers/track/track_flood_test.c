/* track_flood_test - deduplication and rate limits of tracking events. */
#include "producers/track/track.h"
#include "tests/harness/tnet.h"
#include "tests/harness/ttest.h"


#define HIT(f, tok, aut, ip, now)                                                                  \
    track_flood_check(f, tok, strlen(tok), aut, (struct sockaddr *)&(ip), now)

TT_TEST(dedup_window)
{
    struct track_flood_conf c = {60000, 20, 300, 1024};
    struct track_flood *f = track_flood_create(&c);
    struct sockaddr_storage a = tnet_addr("198.51.100.7");
    int recorded = 0;

    /* 1000 hits of one token within a second: one event */
    for (int i = 0; i < 1000; i++)
        recorded += HIT(f, "tokenA", 0, a, 1000000 + i) == TRACK_FLOOD_RECORD;
    TT_EQ_INT(recorded, 1);
    TT_EQ_INT(HIT(f, "tokenA", 0, a, 1000000 + 59999), TRACK_FLOOD_DUPLICATE);
    /* the window is counted from the recorded event, not extended by duplicates */
    TT_EQ_INT(HIT(f, "tokenA", 0, a, 1000000 + 60000), TRACK_FLOOD_RECORD);
    /* a scanner's prefetch does not hide the recipient's own click, nor the reverse */
    TT_EQ_INT(HIT(f, "tokenB", 1, a, 2000000), TRACK_FLOOD_RECORD);
    TT_EQ_INT(HIT(f, "tokenB", 0, a, 2000001), TRACK_FLOOD_RECORD);
    TT_EQ_INT(HIT(f, "tokenB", 1, a, 2000002), TRACK_FLOOD_DUPLICATE);
    TT_EQ_INT(HIT(f, "tokenB", 0, a, 2000003), TRACK_FLOOD_DUPLICATE);
    /* distinct tokens (each link of a message) are each recorded */
    for (int i = 0; i < 50; i++) {
        char tok[32];
        snprintf(tok, sizeof(tok), "link-%d", i);
        TT_EQ_INT(HIT(f, tok, 0, a, 3000000 + i), TRACK_FLOOD_RECORD);
    }
    track_flood_free(f);
}

TT_TEST(token_rate)
{
    struct track_flood_conf c = {0, 5, 100000, 1024};
    struct track_flood *f = track_flood_create(&c);
    struct sockaddr_storage a = tnet_addr("198.51.100.7");
    int recorded = 0;

    for (int i = 0; i < 200; i++)
        recorded += HIT(f, "tok", 0, a, 1000 + i) == TRACK_FLOOD_RECORD;
    TT_EQ_INT(recorded, 5);
    TT_EQ_INT(HIT(f, "tok", 0, a, 2000), TRACK_FLOOD_TOKEN_LIMIT);
    /* 5 per hour: one more credit after 12 minutes */
    TT_EQ_INT(HIT(f, "tok", 0, a, 1000 + 12 * 60000 + 200), TRACK_FLOOD_RECORD);
    TT_EQ_INT(HIT(f, "tok", 0, a, 1000 + 12 * 60000 + 300), TRACK_FLOOD_TOKEN_LIMIT);
    track_flood_free(f);
}

TT_TEST(client_rate)
{
    struct track_flood_conf c = {0, 1000, 10, 4096};
    struct track_flood *f = track_flood_create(&c);
    struct sockaddr_storage a = tnet_addr("2001:db8:1:2::1"),
                            same64 = tnet_addr("2001:db8:1:2:ffff::9"),
                            other = tnet_addr("2001:db8:1:3::1");
    int recorded = 0;

    for (int i = 0; i < 100; i++)
        recorded += HIT(f, "tok", 0, a, 1000 + i) == TRACK_FLOOD_RECORD;
    TT_EQ_INT(recorded, 10);
    /* the same /64 shares the limit */
    TT_EQ_INT(HIT(f, "tok", 0, same64, 1200), TRACK_FLOOD_CLIENT_LIMIT);
    /* another /64 does not */
    TT_EQ_INT(HIT(f, "tok", 0, other, 1201), TRACK_FLOOD_RECORD);
    /* a first hit is recorded even when the client's credit is used up */
    TT_EQ_INT(HIT(f, "never-seen", 0, a, 1300), TRACK_FLOOD_RECORD);
    TT_EQ_INT(HIT(f, "never-seen", 0, a, 1400), TRACK_FLOOD_CLIENT_LIMIT);
    track_flood_free(f);
}

TT_TEST(bounded_memory)
{
    struct track_flood_conf c = {60000, 20, 1000000, 64};
    struct track_flood *f = track_flood_create(&c);
    struct sockaddr_storage a = tnet_addr("198.51.100.7");
    char tok[32];

    /* far more tokens than entries: every first hit is still recorded */
    for (int i = 0; i < 100000; i++) {
        snprintf(tok, sizeof(tok), "t%d", i);
        TT_EQ_INT(HIT(f, tok, 0, a, 1000 + i), TRACK_FLOOD_RECORD);
    }
    /* the most recent ones are still remembered */
    TT_EQ_INT(HIT(f, tok, 0, a, 1000 + 100000), TRACK_FLOOD_DUPLICATE);
    track_flood_free(f);
}

TT_MAIN(TT_CASE(dedup_window), TT_CASE(token_rate), TT_CASE(client_rate), TT_CASE(bounded_memory))
