/* deliver_dest_test - per-destination session limits */
#include "tests/harness/ttest.h"
#include "workers/deliver/deliver.h"

struct deliver_conf deliver_conf;

TT_TEST(limit_per_destination)
{
    deliver_conf.dest_limit = 3;
    for (int i = 0; i < 3; i++)
        TT_ASSERT(deliver_dest_take("mx:tarpit.test:25") == 1);
    TT_ASSERT(deliver_dest_take("mx:tarpit.test:25") == 0);
    TT_ASSERT(deliver_dest_take("mx:tarpit.test:25") == 0);
    /* other destinations are not affected */
    TT_ASSERT(deliver_dest_take("mx:example.net:25") == 1);
    TT_ASSERT(deliver_dest_take("127.0.0.1|25|") == 1);
    deliver_dest_give("mx:tarpit.test:25");
    TT_ASSERT(deliver_dest_take("mx:tarpit.test:25") == 1);
    TT_ASSERT(deliver_dest_take("mx:tarpit.test:25") == 0);
    for (int i = 0; i < 3; i++)
        deliver_dest_give("mx:tarpit.test:25");
    deliver_dest_give("mx:example.net:25");
    deliver_dest_give("127.0.0.1|25|");
    /* all given back: a full limit again */
    for (int i = 0; i < 3; i++)
        TT_ASSERT(deliver_dest_take("mx:tarpit.test:25") == 1);
    TT_ASSERT(deliver_dest_take("mx:tarpit.test:25") == 0);
    for (int i = 0; i < 3; i++)
        deliver_dest_give("mx:tarpit.test:25");
}

TT_TEST(limit_of_one)
{
    deliver_conf.dest_limit = 1;
    TT_ASSERT(deliver_dest_take("a") == 1);
    TT_ASSERT(deliver_dest_take("a") == 0);
    TT_ASSERT(deliver_dest_take("b") == 1);
    deliver_dest_give("a");
    deliver_dest_give("b");
    TT_ASSERT(deliver_dest_take("a") == 1);
    deliver_dest_give("a");
}

TT_MAIN(TT_CASE(limit_per_destination), TT_CASE(limit_of_one))
