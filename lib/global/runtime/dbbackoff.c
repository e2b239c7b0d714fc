/*
 * dbbackoff - how a batch consumer waits out a database outage (see
 * dbbackoff.h).
 */
#include "global/runtime/dbbackoff.h"

#include "util/msg.h"
#include "util/timeutil.h"

void dbbackoff_fail(struct dbbackoff *b, const char *what, const char *error, int in_hand)
{
    if (b->backoff == 0)
        msg_warn("database unavailable (%s: %s); keeping %d deliveries in hand and retrying", what,
                 error, in_hand);
    b->backoff = b->backoff ? b->backoff * 2 : DBBACKOFF_FIRST_MS;
    if (b->backoff > DBBACKOFF_MAX_MS)
        b->backoff = DBBACKOFF_MAX_MS;
    b->retry_at = timeutil_mono_ms() + b->backoff;
}

void dbbackoff_ok(struct dbbackoff *b)
{
    if (b->backoff)
        msg_info("database available again");
    b->backoff = 0;
    b->retry_at = 0;
}

int64_t dbbackoff_wait(const struct dbbackoff *b, int64_t now)
{
    return now < b->retry_at ? b->retry_at - now : 0;
}
