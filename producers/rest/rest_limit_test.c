/* rest_limit_test - per-account rate and concurrency limits. */
#include "producers/rest/rest.h"
#include "global/account.h"
#include "tests/harness/ttest.h"
#include "util/timeutil.h"

struct rest_conf rest_conf;

static struct auth_account account(long long id, const char *settings)
{
    struct auth_account a;

    memset(&a, 0, sizeof(a));
    a.id = id;
    snprintf(a.name, sizeof(a.name), "a%lld", id);
    a.settings = json_loads(settings, 0, NULL);
    return a;
}

/* account_with - settings stored for the account merged over the defaults, as auth does */
static struct auth_account account_with(long long id, const char *stored)
{
    struct auth_account a;

    memset(&a, 0, sizeof(a));
    a.id = id;
    snprintf(a.name, sizeof(a.name), "a%lld", id);
    a.settings = account_settings(stored);
    return a;
}

TT_TEST(test_off)
{
    struct auth_account a = account(1, "{\"rateLimit\":0,\"concurrencyLimit\":0}");
    int retry, held;

    for (int i = 0; i < 1000; i++) {
        TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
        TT_EQ_INT(held, 0);
    }
    auth_account_free(&a);
}

TT_TEST(test_rate)
{
    struct auth_account a = account(2, "{\"rateLimit\":5}");
    int retry, held;

    for (int i = 0; i < 5; i++) {
        TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
        TT_EQ_INT(held, 1);
        rest_limit_leave(a.id);
    }
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_RATE);
    TT_EQ_INT(held, 0);
    TT_EQ_INT(retry, 1);
    timeutil_sleep_ms(250); /* 5/s: one token after 200 ms */
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
    rest_limit_leave(a.id);
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_RATE);
    auth_account_free(&a);
}

TT_TEST(test_slow_rate_retry_after)
{
    struct auth_account a = account(3, "{\"rateLimit\":0.1}");
    int retry, held;

    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
    rest_limit_leave(a.id);
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_RATE);
    TT_ASSERT(retry >= 9 && retry <= 10);
    auth_account_free(&a);
}

TT_TEST(test_concurrency)
{
    struct auth_account a = account(4, "{\"concurrencyLimit\":2}"),
                        b = account(5, "{\"concurrencyLimit\":1}");
    int retry, held;

    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_CONCURRENCY);
    TT_EQ_INT(retry, 1);
    TT_EQ_INT(rest_limit_enter(&b, &retry, &held), REST_LIMIT_OK); /* accounts are separate */
    rest_limit_leave(a.id);
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
    auth_account_free(&a);
    auth_account_free(&b);
}

/*
 * an account that says nothing (the defaults of account.c) gets
 * rest_account_concurrency; null is the same; 0 turns it off
 */
TT_TEST(test_default_concurrency)
{
    struct auth_account a = account_with(6, NULL),
                        n = account_with(7, "{\"concurrencyLimit\":null}"),
                        off = account_with(8, "{\"concurrencyLimit\":0}");
    int retry, held;

    rest_conf.account_concurrency = 16;
    for (int i = 0; i < 16; i++) {
        TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
        TT_EQ_INT(held, 1);
        TT_EQ_INT(rest_limit_enter(&n, &retry, &held), REST_LIMIT_OK);
    }
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_CONCURRENCY);
    TT_EQ_INT(held, 0);
    TT_EQ_INT(rest_limit_enter(&n, &retry, &held), REST_LIMIT_CONCURRENCY);
    for (int i = 0; i < 100; i++)
        TT_EQ_INT(rest_limit_enter(&off, &retry, &held), REST_LIMIT_OK);
    rest_limit_leave(a.id);
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
    /* the parameter at 0: no default limit */
    rest_conf.account_concurrency = 0;
    TT_EQ_INT(rest_limit_enter(&a, &retry, &held), REST_LIMIT_OK);
    rest_conf.account_concurrency = 16;
    auth_account_free(&a);
    auth_account_free(&n);
    auth_account_free(&off);
}

TT_MAIN(TT_CASE(test_off), TT_CASE(test_rate), TT_CASE(test_slow_rate_retry_after),
        TT_CASE(test_concurrency), TT_CASE(test_default_concurrency))
