/* authlimit - failure scores and the KDF bound; see authlimit.h. */
#include "global/access/authlimit.h"
#include "global/ids.h"
#include "global/access/netaddr.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define WAYS 4

struct authlimit_conf authlimit_conf = {10, 30, 600000, 4, 0};

struct entry {
    char key[AUTHLIMIT_KEY_MAX];
    int kind;
    double score;
    int64_t at;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry tab[AUTHLIMIT_SLOTS];
static uint64_t seed;
static int seeded;
static long long kdf_busy;
static __thread int64_t kdf_rest_until; /* kdf_pace: this thread starts no KDF before */

static double decayed(const struct entry *e, int64_t now)
{
    if (e->key[0] == 0 || e->score <= 0)
        return 0;
    if (now <= e->at)
        return e->score;
    return e->score * pow(0.5, (double)(now - e->at) / (double)authlimit_conf.decay_ms);
}

/* find - the entry of kind/key, or the one of its set to reuse (*found 0); lock held */
static struct entry *find(int kind, const char *key, int64_t now, int *found)
{
    uint64_t h;
    struct entry *set, *victim;

    if (!seeded) {
        ids_random_bytes(&seed, sizeof(seed));
        seeded = 1;
    }
    h = (seed ^ 14695981039346656037ULL) + (uint64_t)kind;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h ^= h >> 29;
    set = &tab[(h % (AUTHLIMIT_SLOTS / WAYS)) * WAYS];
    victim = set;
    for (int i = 0; i < WAYS; i++) {
        if (set[i].key[0] && set[i].kind == kind && strcmp(set[i].key, key) == 0) {
            *found = 1;
            return &set[i];
        }
        if (decayed(&set[i], now) < decayed(victim, now))
            victim = &set[i];
    }
    *found = 0;
    return victim;
}

static long long limit_of(enum authlimit_kind kind)
{
    return kind == AUTHLIMIT_ADDR ? authlimit_conf.addr_limit : authlimit_conf.user_limit;
}

/* the text the table holds for kind/key (address groups, bounded keys) */
static void table_key(enum authlimit_kind kind, const char *key, char *out, size_t outsz)
{
    if (kind == AUTHLIMIT_ADDR)
        netaddr_group_text(key, out, outsz);
    else
        snprintf(out, outsz, "%s", key);
}

int authlimit_blocked(enum authlimit_kind kind, const char *key, int64_t now)
{
    char k[AUTHLIMIT_KEY_MAX];
    long long limit = limit_of(kind);
    double score, threshold;
    int found, secs = 0;

    if (limit <= 0)
        return 0;
    table_key(kind, key, k, sizeof(k));
    /* "limit" failures a moment ago block: their score is just under limit */
    threshold = (double)limit - 0.5;
    pthread_mutex_lock(&lock);
    struct entry *e = find(kind, k, now, &found);
    score = found ? decayed(e, now) : 0;
    pthread_mutex_unlock(&lock);
    if (score > threshold) {
        /* score * 2^(-t / decay) falls to the threshold after t */
        double t = (double)authlimit_conf.decay_ms * log2(score / threshold) / 1000.0;
        secs = (int)ceil(t);
        if (secs < 1)
            secs = 1;
    }
    return secs;
}

double authlimit_failed(enum authlimit_kind kind, const char *key, int64_t now)
{
    char k[AUTHLIMIT_KEY_MAX];
    double score;
    int found;

    table_key(kind, key, k, sizeof(k));
    pthread_mutex_lock(&lock);
    struct entry *e = find(kind, k, now, &found);
    score = found ? decayed(e, now) : 0;
    snprintf(e->key, sizeof(e->key), "%s", k);
    e->kind = kind;
    e->score = score + 1;
    e->at = now;
    score = e->score;
    pthread_mutex_unlock(&lock);
    return score;
}

int authlimit_kdf_enter(int64_t now)
{
    int ok;

    pthread_mutex_lock(&lock);
    ok = authlimit_conf.kdf_max <= 0 || kdf_busy < authlimit_conf.kdf_max;
    /* a resting thread gives way while others check passwords (a quiet server needs no pace) */
    if (authlimit_conf.kdf_pace && now < kdf_rest_until && kdf_busy > 0)
        ok = 0;
    if (ok)
        kdf_busy++;
    pthread_mutex_unlock(&lock);
    return ok;
}

void authlimit_kdf_leave(int64_t started, int64_t now)
{
    pthread_mutex_lock(&lock);
    if (kdf_busy > 0)
        kdf_busy--;
    pthread_mutex_unlock(&lock);
    if (authlimit_conf.kdf_pace)
        kdf_rest_until = now + (now - started);
}

void authlimit_reset(void)
{
    pthread_mutex_lock(&lock);
    memset(tab, 0, sizeof(tab));
    kdf_busy = 0;
    kdf_rest_until = 0;
    pthread_mutex_unlock(&lock);
}
