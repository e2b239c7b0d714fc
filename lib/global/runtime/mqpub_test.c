/* mqpub_test - the bounded policy without a broker: errors, not waits or deaths */
#include "tests/harness/ttest.h"
#include "global/runtime/mqpub.h"
#include "util/timeutil.h"

#define NOWHERE "amqp://guest:guest@127.0.0.1:1/"

TT_TEST(no_broker_is_an_error)
{
    struct mqpub *p = mqpub_new(NOWHERE, "test", 0, 0);
    struct mqpub_msg m = {MQ_EXCHANGE_WORK, "render", NULL, NULL, "x", 1, "job"};

    TT_ASSERT(mqpub_conn(p) == NULL);
    TT_EQ_INT(mqpub_put(p, &m, 1), TX_RETRY_BROKER); /* not open: nothing sent */
    TT_EQ_INT(mqpub_ready(p), TX_RETRY_BROKER);
    TT_EQ_INT(mqpub_send(p, &m, 1, 1000), TX_RETRY_BROKER);
    TT_ASSERT(mqpub_conn(p) == NULL);
    mqpub_poll(p); /* harmless when closed */
    mqpub_free(p);
    mqpub_free(NULL);
}

TT_TEST(pause_after_a_failed_open)
{
    struct mqpub *p = mqpub_new(NOWHERE, "test", MQPUB_DECLARE, 60000);

    TT_EQ_INT(mqpub_ready(p), TX_RETRY_BROKER);
    int64_t t0 = timeutil_mono_ms();
    for (int i = 0; i < 100; i++) /* within the pause: no attempt */
        TT_EQ_INT(mqpub_ready(p), TX_RETRY_BROKER);
    TT_ASSERT(timeutil_mono_ms() - t0 < 1000);
    mqpub_free(p);
}

TT_MAIN(TT_CASE(no_broker_is_an_error), TT_CASE(pause_after_a_failed_open))
