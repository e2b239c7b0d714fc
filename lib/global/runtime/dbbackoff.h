/*
 * dbbackoff - how a batch consumer waits out a database outage.
 *
 * The batch programs (recorder, monitor) keep the deliveries of a failed
 * batch in hand, unacked, and try again later: first after 250 ms, then
 * twice as long each time, at most DBBACKOFF_MAX_MS. The first failure of
 * an outage is logged once (with how much is in hand), the first success
 * after it once; what lies between is counted by the caller's metrics.
 *
 *   static struct dbbackoff dbb;
 *   ...
 *   if (dbbackoff_wait(&dbb, now) > 0) return it;   in the work callback
 *   if (write failed) dbbackoff_fail(&dbb, "batch", db_error(db), n);
 *   else dbbackoff_ok(&dbb);
 */
#ifndef TX_DBBACKOFF_H
#define TX_DBBACKOFF_H

#include <stdint.h>

#define DBBACKOFF_FIRST_MS 250
#define DBBACKOFF_MAX_MS 10000

struct dbbackoff {
    int64_t retry_at; /* monotonic ms before which nothing is tried */
    int64_t backoff;  /* the current wait; 0 while the database is fine */
};

/* dbbackoff_fail - a write failed: log the start of an outage, wait longer */
void dbbackoff_fail(struct dbbackoff *b, const char *what, const char *error, int in_hand);
/* dbbackoff_ok - a write succeeded: log the end of an outage */
void dbbackoff_ok(struct dbbackoff *b);
/* dbbackoff_wait - milliseconds still to wait at monotonic time now (0: go) */
int64_t dbbackoff_wait(const struct dbbackoff *b, int64_t now);

#endif
