/* authlimit_test - failure scores (windows, IPv6 /64 groups, users) and the KDF bound */
#include "tests/harness/ttest.h"
#include "global/access/authlimit.h"

#include <pthread.h>

#define MIN 60000

static void conf(long long addr, long long user, int64_t decay, long long kdf)
{
    authlimit_reset();
    authlimit_conf.addr_limit = addr;
    authlimit_conf.user_limit = user;
    authlimit_conf.decay_ms = decay;
    authlimit_conf.kdf_max = kdf;
}

TT_TEST(address_window)
{
    int64_t t = 1000000;

    conf(3, 0, 10 * MIN, 0);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.1", t), 0);
    authlimit_failed(AUTHLIMIT_ADDR, "192.0.2.1", t);
    authlimit_failed(AUTHLIMIT_ADDR, "192.0.2.1", t + 1);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.1", t + 2), 0);
    authlimit_failed(AUTHLIMIT_ADDR, "192.0.2.1", t + 2);
    /* three failures a moment ago: blocked; score 3 falls to 2.5 after 10m * log2(1.2) = 158 s */
    int secs = authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.1", t + 3);
    TT_ASSERT(secs >= 157 && secs <= 159);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.2", t + 3), 0);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_USER, "192.0.2.1", t + 3), 0);
    /* still blocked shortly before, free right after the time it was told */
    TT_ASSERT(authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.1", t + 2 + (int64_t)(secs - 2) * 1000) >
              0);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.1", t + 2 + (int64_t)secs * 1000), 0);
    /* one more failure then blocks again, for longer */
    int64_t t2 = t + 2 + (int64_t)secs * 1000;
    authlimit_failed(AUTHLIMIT_ADDR, "192.0.2.1", t2);
    TT_ASSERT(authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.1", t2) > secs);
    /* after many half-lives everything is forgotten */
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.1", t2 + 100LL * MIN), 0);
    /* limit 0: no limit */
    conf(0, 0, 10 * MIN, 0);
    for (int i = 0; i < 100; i++)
        authlimit_failed(AUTHLIMIT_ADDR, "192.0.2.1", t);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "192.0.2.1", t), 0);
}

TT_TEST(ipv6_per_64)
{
    int64_t t = 5000;

    conf(2, 0, MIN, 0);
    authlimit_failed(AUTHLIMIT_ADDR, "2001:db8:1:2::10", t);
    authlimit_failed(AUTHLIMIT_ADDR, "2001:db8:1:2:ffff::99", t);
    TT_ASSERT(authlimit_blocked(AUTHLIMIT_ADDR, "2001:db8:1:2:1234:5678:9abc:def0", t) > 0);
    TT_ASSERT(authlimit_blocked(AUTHLIMIT_ADDR, "2001:db8:1:2::10", t) > 0);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "2001:db8:1:3::10", t), 0);
    /* IPv4 and its mapped form are one client */
    authlimit_failed(AUTHLIMIT_ADDR, "198.51.100.4", t);
    authlimit_failed(AUTHLIMIT_ADDR, "::ffff:198.51.100.4", t);
    TT_ASSERT(authlimit_blocked(AUTHLIMIT_ADDR, "198.51.100.4", t) > 0);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "198.51.100.5", t), 0);
}

TT_TEST(per_user)
{
    int64_t t = 5000;

    conf(0, 3, MIN, 0);
    authlimit_failed(AUTHLIMIT_USER, "id:7", t);
    authlimit_failed(AUTHLIMIT_USER, "id:7", t);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_USER, "id:7", t), 0);
    authlimit_failed(AUTHLIMIT_USER, "id:7", t);
    /* score 3 to 2.5: 1m * log2(1.2) = 15.8 s */
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_USER, "id:7", t), 16);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_USER, "id:8", t), 0);
    TT_EQ_INT(authlimit_blocked(AUTHLIMIT_ADDR, "id:7", t), 0);
}

TT_TEST(table_keeps_the_high_scores)
{
    int64_t t = 5000;
    char k[32];

    conf(0, 3, 10 * MIN, 0);
    for (int i = 0; i < 3; i++)
        authlimit_failed(AUTHLIMIT_USER, "id:victim", t);
    /* a flood of other keys, each failing once, does not push the blocked one out */
    for (int i = 0; i < 4 * AUTHLIMIT_SLOTS; i++) {
        snprintf(k, sizeof(k), "name:spray%d", i);
        authlimit_failed(AUTHLIMIT_USER, k, t + 1);
    }
    TT_ASSERT(authlimit_blocked(AUTHLIMIT_USER, "id:victim", t + 2) > 0);
}

TT_TEST(kdf_bound)
{
    conf(0, 0, MIN, 2);
    TT_EQ_INT(authlimit_kdf_enter(0), 1);
    TT_EQ_INT(authlimit_kdf_enter(0), 1);
    TT_EQ_INT(authlimit_kdf_enter(0), 0);
    authlimit_kdf_leave(0, 100);
    TT_EQ_INT(authlimit_kdf_enter(100), 1);
    TT_EQ_INT(authlimit_kdf_enter(100), 0);
    authlimit_kdf_leave(0, 100);
    authlimit_kdf_leave(0, 100);
    conf(0, 0, MIN, 0);
    for (int i = 0; i < 1000; i++)
        TT_EQ_INT(authlimit_kdf_enter(0), 1);
}

static void *other_enters(void *arg)
{
    (void)arg;
    TT_EQ_INT(authlimit_kdf_enter(1320), 1); /* another thread's run in progress */
    return NULL;
}

TT_TEST(kdf_pace)
{
    conf(0, 0, MIN, 4);
    authlimit_conf.kdf_pace = 1;
    TT_EQ_INT(authlimit_kdf_enter(1000), 1);
    authlimit_kdf_leave(1000, 1150);
    /* this thread ran 150 ms: alone, it may go on at once */
    TT_EQ_INT(authlimit_kdf_enter(1160), 1);
    authlimit_kdf_leave(1160, 1310);
    /* while others run it rests until 1460, though slots are free */
    pthread_t other;
    pthread_create(&other, NULL, other_enters, NULL);
    pthread_join(other, NULL);
    TT_EQ_INT(authlimit_kdf_enter(1400), 0);
    TT_EQ_INT(authlimit_kdf_enter(1459), 0);
    TT_EQ_INT(authlimit_kdf_enter(1460), 1);
    authlimit_kdf_leave(1460, 1470);
    authlimit_kdf_leave(0, 0); /* the other thread's run */
    authlimit_conf.kdf_pace = 0;
    TT_EQ_INT(authlimit_kdf_enter(0), 1); /* without pace only the counter counts */
}

TT_MAIN(TT_CASE(address_window), TT_CASE(ipv6_per_64), TT_CASE(per_user),
        TT_CASE(table_keeps_the_high_scores), TT_CASE(kdf_bound), TT_CASE(kdf_pace))
