/*
 * delaytier - retries through the broker's delay tiers (docs/ENVELOPES.md).
 *
 * A message to be tried again later is published to txmail.retry with
 * the routing key of a tier ("1s", "5s", ... "4h", mq_tier_names[]): the
 * tier queue holds it for its TTL and dead-letters it back to txmail.work
 * (CC: the stage's queue). The tier chosen is the longest one not longer
 * than the wanted delay; the envelope's `due` says when the stage may
 * really take it. A stage that receives a message whose `due` is still
 * more than DELAYTIER_EARLY_MS ahead publishes it again through the tier
 * of the time left, so a long delay is a chain of tiers.
 *
 * A retry schedule is a comma-separated list of delays ("10s,1m,5m,1h",
 * each at least 1 s, at most DELAYTIER_SCHEDULE_MAX); the last repeats.
 *
 * Used by the worker skeleton (<prog>_retry_schedule, worker.h) and by
 * txmail-notify (notify_retry_schedule).
 */
#ifndef TX_DELAYTIER_H
#define TX_DELAYTIER_H

#include <stdint.h>

#define DELAYTIER_SCHEDULE_MAX 32
#define DELAYTIER_EARLY_MS 250 /* `due` this close counts as arrived */

struct delaytier_schedule {
    int64_t ms[DELAYTIER_SCHEDULE_MAX];
    int n;
};

/* delaytier_parse - spec into s; -1 on a bad or missing delay (s->n is then 0) */
int delaytier_parse(struct delaytier_schedule *s, const char *spec);
/* delaytier_delay - the i-th delay of s (from 0; the last repeats, i < 0 counts as 0) */
int64_t delaytier_delay(const struct delaytier_schedule *s, int i);
/* delaytier_for - the tier name for delay_ms and the tier's own delay (*tier_ms) */
const char *delaytier_for(int64_t delay_ms, int64_t *tier_ms);
/*
 * delaytier_left - how long a message due at due_ms must still wait at
 * now_ms: 0 when it may be handled now (due within DELAYTIER_EARLY_MS),
 * else the time left (publish it again through delaytier_for(left)).
 */
int64_t delaytier_left(int64_t due_ms, int64_t now_ms);

#endif
