/* delaytier - retry schedules and delay tiers; see delaytier.h. */
#include "global/runtime/delaytier.h"
#include "global/runtime/mq.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <string.h>

int delaytier_parse(struct delaytier_schedule *s, const char *spec)
{
    char *copy = xstrdup(spec), *save = NULL;
    int rc = 0;

    s->n = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int64_t ms;
        while (*tok == ' ')
            tok++;
        if (timeutil_parse_duration(tok, &ms) < 0 || ms < 1000 || s->n == DELAYTIER_SCHEDULE_MAX) {
            rc = -1;
            break;
        }
        s->ms[s->n++] = ms;
    }
    xfree(copy);
    if (rc < 0 || s->n == 0) {
        s->n = 0;
        return -1;
    }
    return 0;
}

int64_t delaytier_delay(const struct delaytier_schedule *s, int i)
{
    if (i < 0)
        i = 0;
    return s->ms[i < s->n ? i : s->n - 1];
}

const char *delaytier_for(int64_t delay_ms, int64_t *tier_ms)
{
    int best = 0;

    for (int i = 0; mq_tier_names[i]; i++)
        if (mq_tier_ms[i] <= delay_ms)
            best = i;
    *tier_ms = mq_tier_ms[best];
    return mq_tier_names[best];
}

int64_t delaytier_left(int64_t due_ms, int64_t now_ms)
{
    return due_ms > now_ms + DELAYTIER_EARLY_MS ? due_ms - now_ms : 0;
}
