/*
 * track_flood - which tracking hits become events (see track.h).
 *
 * Tokens are remembered by the first 16 bytes of the SHA-256 of their
 * text (a click token includes its link, so each link of a message is a
 * token of its own) in a set-associative table of track_flood_tokens
 * entries, 8 ways per set, the least recently used way replaced: memory is
 * fixed whatever the traffic, and forgetting a token can only let one more
 * event through, never lose one. Client addresses (IPv4 address, IPv6 /64)
 * are kept the same way with a quarter of the entries.
 *
 * For each token and each of "automated" and "not automated" (a link
 * scanner's prefetch never hides the recipient's own click):
 *   - the first hit is always recorded;
 *   - another hit within track_dedup_window of the last recorded one is a
 *     duplicate;
 *   - else it needs a credit of the token's bucket (track_token_events per
 *     hour, as many at once) and of the client's (track_client_events per
 *     minute). A first hit takes the client's credit when there is one but
 *     does not need it.
 */
#include "global/crypto.h"
#include "global/access/netaddr.h"
#include "producers/track/track.h"
#include "util/mymalloc.h"

#include <pthread.h>
#include <string.h>

#define WAYS 8

struct tok_entry {
    unsigned char key[16];
    int used;
    int64_t last[2]; /* last recorded event: [automated] (0: none) */
    double credit;
    int64_t refilled, touched;
};

struct cli_entry {
    struct netaddr key; /* the client group (netaddr_group) */
    int used;
    double credit;
    int64_t refilled, touched;
};

struct track_flood {
    struct track_flood_conf conf;
    pthread_mutex_t lock;
    size_t tok_sets, cli_sets;
    struct tok_entry *tok;
    struct cli_entry *cli;
};

static size_t sets_for(long long entries)
{
    size_t n = 1;

    while (n * WAYS < (size_t)entries)
        n <<= 1;
    return n;
}

struct track_flood *track_flood_create(const struct track_flood_conf *conf)
{
    struct track_flood *f = xcalloc(1, sizeof(*f));

    f->conf = *conf;
    f->tok_sets = sets_for(conf->entries > 0 ? conf->entries : 1);
    f->cli_sets = sets_for(conf->entries / 4 > 0 ? conf->entries / 4 : 1);
    f->tok = xcalloc(f->tok_sets * WAYS, sizeof(*f->tok));
    f->cli = xcalloc(f->cli_sets * WAYS, sizeof(*f->cli));
    pthread_mutex_init(&f->lock, NULL);
    return f;
}

void track_flood_free(struct track_flood *f)
{
    if (f == NULL)
        return;
    pthread_mutex_destroy(&f->lock);
    xfree(f->tok);
    xfree(f->cli);
    xfree(f);
}

static size_t set_of(const unsigned char *key, size_t len, size_t sets)
{
    size_t h = 14695981039346656037ull;

    for (size_t i = 0; i < len; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (h % sets) * WAYS;
}

/* refill - credit of a bucket of cap per period_ms, up to cap */
static void refill(double *credit, int64_t *refilled, long long cap, int64_t period_ms, int64_t now)
{
    if (now > *refilled) {
        *credit += (double)cap * (double)(now - *refilled) / (double)period_ms;
        if (*credit > (double)cap)
            *credit = (double)cap;
    }
    *refilled = now;
}

static struct tok_entry *tok_get(struct track_flood *f, const unsigned char key[16], int64_t now)
{
    struct tok_entry *set = f->tok + set_of(key, 16, f->tok_sets), *victim = set;

    for (int i = 0; i < WAYS; i++) {
        if (set[i].used && memcmp(set[i].key, key, 16) == 0)
            return &set[i];
        if (!set[i].used || (victim->used && set[i].touched < victim->touched))
            victim = &set[i];
    }
    memset(victim, 0, sizeof(*victim));
    memcpy(victim->key, key, 16);
    victim->used = 1;
    victim->credit = (double)f->conf.token_events;
    victim->refilled = now;
    return victim;
}

static struct cli_entry *cli_get(struct track_flood *f, const struct netaddr *key, int64_t now)
{
    struct cli_entry *set = f->cli + set_of(key->a, sizeof(key->a), f->cli_sets), *victim = set;

    for (int i = 0; i < WAYS; i++) {
        if (set[i].used && netaddr_equal(&set[i].key, key))
            return &set[i];
        if (!set[i].used || (victim->used && set[i].touched < victim->touched))
            victim = &set[i];
    }
    memset(victim, 0, sizeof(*victim));
    victim->key = *key;
    victim->used = 1;
    victim->credit = (double)f->conf.client_events;
    victim->refilled = now;
    return victim;
}

enum track_flood_verdict track_flood_check(struct track_flood *f, const char *token, size_t len,
                                           int automated, const struct sockaddr *client,
                                           int64_t now)
{
    unsigned char digest[32];
    struct netaddr peer, ckey;
    enum track_flood_verdict v = TRACK_FLOOD_RECORD;
    struct cli_entry *c = NULL;
    int a = automated ? 1 : 0;

    if (f == NULL)
        return TRACK_FLOOD_RECORD;
    if (now <= 0)
        now = 1; /* 0 means "never" in last[] */
    crypto_sha256(digest, token, len);
    pthread_mutex_lock(&f->lock);
    struct tok_entry *t = tok_get(f, digest, now);
    int first = t->last[a] == 0;
    t->touched = now;
    refill(&t->credit, &t->refilled, f->conf.token_events, 3600000, now);
    if (netaddr_from_sockaddr(&peer, client) == 0) {
        netaddr_group(&peer, &ckey);
        c = cli_get(f, &ckey, now);
        c->touched = now;
        refill(&c->credit, &c->refilled, f->conf.client_events, 60000, now);
    }
    if (!first) {
        if (f->conf.window_ms > 0 && now - t->last[a] < f->conf.window_ms)
            v = TRACK_FLOOD_DUPLICATE;
        else if (t->credit < 1)
            v = TRACK_FLOOD_TOKEN_LIMIT;
        else if (c && c->credit < 1)
            v = TRACK_FLOOD_CLIENT_LIMIT;
    }
    if (v == TRACK_FLOOD_RECORD) {
        t->last[a] = now;
        t->credit = t->credit >= 1 ? t->credit - 1 : 0;
        if (c)
            c->credit = c->credit >= 1 ? c->credit - 1 : 0;
    }
    pthread_mutex_unlock(&f->lock);
    return v;
}

const char *track_flood_name(enum track_flood_verdict v)
{
    switch (v) {
    case TRACK_FLOOD_RECORD:
        return "recorded";
    case TRACK_FLOOD_DUPLICATE:
        return "duplicate";
    case TRACK_FLOOD_TOKEN_LIMIT:
        return "token rate limited";
    case TRACK_FLOOD_CLIENT_LIMIT:
        return "client rate limited";
    }
    return "?";
}
