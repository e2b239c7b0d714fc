/*
 * recorder_state - how events fold into a message's current state and
 * how suppression events fold into an entry. Pure functions: the
 * transaction reads the row, folds, and writes what changed, so a replay
 * changes nothing and the arrival order does not matter.
 */
#include "recorder.h"
#include "global/event.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int recorder_state_is_delivery(const char *phase, const char *type)
{
    if (phase == NULL || type == NULL)
        return 0;
    if (strcmp(phase, "PRE_PROCESS") != 0 && strcmp(phase, "PROCESS") != 0 &&
        strcmp(phase, "DELIVER") != 0)
        return 0;
    return strcmp(type, "TRACE_RECOVER_STORE") != 0;
}

static void copy(char *dst, size_t sz, const char *src)
{
    snprintf(dst, sz, "%s", src ? src : "");
}

/* stage - the position of a non-final state in the life of an address (§10.1) */
static int stage(const char *phase, const char *state)
{
    if (strcmp(phase, "PRE_PROCESS") == 0)
        return 0;
    if (strcmp(phase, "PROCESS") == 0)
        return strcmp(state, "INITIAL") == 0 ? 1 : 2;
    return 3;
}

/* wins - the event replaces the recorded delivery state */
static int wins(const struct rec_msgstate *s, const struct rec_evinfo *e)
{
    int final = event_is_final(e->state);

    if (!s->have)
        return 1;
    if (s->final_ms) /* never leave a final state; the earliest final wins */
        return final && e->ts_ms < s->final_ms;
    if (final)
        return 1;
    if (e->ts_ms != s->ts_ms)
        return e->ts_ms > s->ts_ms;
    /* the same millisecond: the later stage wins, whatever the arrival order */
    return stage(e->phase, e->state) > stage(s->phase, s->state);
}

static int state_equal(const struct rec_msgstate *a, const struct rec_msgstate *b)
{
    return a->have == b->have && strcmp(a->phase, b->phase) == 0 &&
           strcmp(a->state, b->state) == 0 && strcmp(a->type, b->type) == 0 &&
           strcmp(a->subtype, b->subtype) == 0 && a->ts_ms == b->ts_ms &&
           a->final_ms == b->final_ms && strcmp(a->smtp_code, b->smtp_code) == 0 &&
           a->size == b->size && a->deferrals == b->deferrals &&
           a->trace_until_ms == b->trace_until_ms;
}

static int supp_equal(const struct rec_supp *a, const struct rec_supp *b)
{
    return a->exists == b->exists && strcmp(a->type, b->type) == 0 &&
           a->created_ms == b->created_ms && a->expires_ms == b->expires_ms &&
           a->lifetime_s == b->lifetime_s && a->last_attempt_ms == b->last_attempt_ms;
}

int recorder_state_apply(struct rec_msgstate *s, const struct rec_evinfo *e)
{
    struct rec_msgstate before = *s;

    if (e->type && strcmp(e->type, "DEFERRED") == 0 && e->event_key) {
        char *end;
        long long n = strtoll(e->event_key, &end, 10);
        if (*end == 0 && n > s->deferrals && n < 1000000)
            s->deferrals = n;
    }
    if (e->size > 0)
        s->size = e->size;
    if (e->type && strcmp(e->type, "TRACE_RECOVER_STORE") == 0 && e->description &&
        strncmp(e->description, "stored until ", 13) == 0) {
        int64_t until;
        if (timeutil_parse_iso8601(e->description + 13, &until) == 0 && until > s->trace_until_ms)
            s->trace_until_ms = until;
    }
    if (recorder_state_is_delivery(e->phase, e->type) && wins(s, e)) {
        s->have = 1;
        copy(s->phase, sizeof(s->phase), e->phase);
        copy(s->state, sizeof(s->state), e->state);
        copy(s->type, sizeof(s->type), e->type);
        copy(s->subtype, sizeof(s->subtype), e->subtype);
        s->ts_ms = e->ts_ms;
        s->final_ms = event_is_final(e->state) ? e->ts_ms : 0;
        if (e->smtp_code && strlen(e->smtp_code) == 3)
            copy(s->smtp_code, sizeof(s->smtp_code), e->smtp_code);
    }
    return !state_equal(&before, s);
}

/* ---- suppression -------------------------------------------------------- */

int recorder_state_supp_rank(const char *type)
{
    static const char *const types[] = {"TEMPORARY_SUPPRESSED", "PREVIOUSLY_BOUNCED", "MANUAL",
                                        "UNSUBSCRIBED", NULL};

    for (int i = 0; type && types[i]; i++)
        if (strcmp(type, types[i]) == 0)
            return i + 1;
    return 0;
}

/* later - the later of two expiries, -1 (without end) beating any time */
static int64_t later(int64_t a, int64_t b)
{
    if (a < 0 || b < 0)
        return -1;
    return a > b ? a : b;
}

int recorder_state_supp_merge(struct rec_supp *cur, const char *type, long long lifetime_s,
                              int64_t ts_ms, int *replaced)
{
    struct rec_supp before = *cur;
    int rank = recorder_state_supp_rank(type), crank = recorder_state_supp_rank(cur->type);
    int64_t expires = lifetime_s < 0 ? -1 : ts_ms + lifetime_s * 1000;

    *replaced = 0;
    if (rank == 0)
        return 0;
    if (!cur->exists || crank == 0 || (cur->expires_ms >= 0 && cur->expires_ms <= ts_ms) ||
        rank > crank) {
        /* new, expired at the time of the event, or a stronger type */
        cur->exists = 1;
        copy(cur->type, sizeof(cur->type), type);
        cur->created_ms = ts_ms;
        cur->expires_ms = expires;
        cur->lifetime_s = lifetime_s;
        cur->last_attempt_ms = 0;
        *replaced = 1;
    } else if (rank == crank) {
        if (ts_ms >= cur->created_ms) {
            /* the same class again: a refresh, dated by the newest event */
            cur->expires_ms = later(cur->expires_ms, expires);
            cur->created_ms = ts_ms;
            cur->lifetime_s = lifetime_s;
            *replaced = ts_ms != before.created_ms;
        } else {
            cur->expires_ms = later(cur->expires_ms, expires);
        }
    } else if (crank <= 2) {
        /* a weaker bounce class: keep the type, never shorten, extend */
        if (cur->expires_ms >= 0)
            cur->expires_ms = later(cur->expires_ms, expires);
    }
    /* below MANUAL / UNSUBSCRIBED a bounce class changes nothing */
    return !supp_equal(&before, cur);
}

int recorder_state_supp_touch(struct rec_supp *cur, int64_t ts_ms)
{
    struct rec_supp before = *cur;
    int rank = recorder_state_supp_rank(cur->type);

    if (!cur->exists)
        return 0;
    if (ts_ms > cur->last_attempt_ms)
        cur->last_attempt_ms = ts_ms;
    /* only an entry that was in force at the attempt, of a type that resets */
    if ((rank == 1 || rank == 2) && cur->lifetime_s >= 0 && cur->expires_ms >= 0 &&
        cur->expires_ms > ts_ms)
        cur->expires_ms = later(cur->expires_ms, ts_ms + cur->lifetime_s * 1000);
    return !supp_equal(&before, cur);
}
