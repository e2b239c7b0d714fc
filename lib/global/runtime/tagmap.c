/* tagmap - acks of deliveries that were split into parts; see tagmap.h. */
#include "global/runtime/tagmap.h"
#include "util/mymalloc.h"

#include <string.h>

struct tm_group {
    uint64_t broker;     /* the broker's delivery tag */
    uint64_t first;      /* local tag of part 0 */
    int nparts, left;    /* parts, parts not yet settled */
    int acked;           /* the broker ack was sent */
    unsigned char *done; /* per part; NULL for one part */
};

struct tagmap {
    struct tm_group *g; /* g[head..len): in hand, ascending */
    int head, len, cap;
    uint64_t next; /* next local tag */
    tagmap_ack_fn fn;
    void *ctx;
};

struct tagmap *tagmap_new(tagmap_ack_fn fn, void *ctx)
{
    struct tagmap *tm = xcalloc(1, sizeof(*tm));

    tm->fn = fn;
    tm->ctx = ctx;
    tm->next = 1;
    return tm;
}

void tagmap_reset(struct tagmap *tm)
{
    for (int i = tm->head; i < tm->len; i++)
        xfree(tm->g[i].done);
    tm->head = tm->len = 0;
}

void tagmap_free(struct tagmap *tm)
{
    if (tm == NULL)
        return;
    tagmap_reset(tm);
    xfree(tm->g);
    xfree(tm);
}

int tagmap_pending(const struct tagmap *tm)
{
    return tm->len - tm->head;
}

uint64_t tagmap_add(struct tagmap *tm, uint64_t broker_tag, int nparts)
{
    struct tm_group *grp;

    if (nparts < 1)
        nparts = 1;
    if (tm->head > 0 && tm->head * 2 >= tm->len) {
        memmove(tm->g, tm->g + tm->head, (size_t)(tm->len - tm->head) * sizeof(*tm->g));
        tm->len -= tm->head;
        tm->head = 0;
    }
    if (tm->len == tm->cap) {
        tm->cap = tm->cap ? tm->cap * 2 : 64;
        tm->g = xrealloc(tm->g, (size_t)tm->cap * sizeof(*tm->g));
    }
    grp = &tm->g[tm->len++];
    grp->broker = broker_tag;
    grp->first = tm->next;
    grp->nparts = grp->left = nparts;
    grp->acked = 0;
    grp->done = nparts > 1 ? xcalloc((size_t)nparts, 1) : NULL;
    tm->next += (uint64_t)nparts;
    return grp->first;
}

/* find - index of the group holding local tag v, or -1 */
static int find(const struct tagmap *tm, uint64_t v)
{
    int lo = tm->head, hi = tm->len - 1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const struct tm_group *g = &tm->g[mid];
        if (v < g->first)
            hi = mid - 1;
        else if (v >= g->first + (uint64_t)g->nparts)
            lo = mid + 1;
        else
            return mid;
    }
    return -1;
}

/* mark - part v of g settled; 1 when that completed the group */
static int mark(struct tm_group *g, uint64_t v)
{
    uint64_t i = v - g->first;

    if (g->left == 0)
        return 0;
    if (g->done) {
        if (g->done[i])
            return 0;
        g->done[i] = 1;
    }
    return --g->left == 0;
}

/*
 * settle_front - drop the completed groups at the front with one multiple
 * ack up to the last of them not yet acked: RabbitMQ refuses (closes the
 * channel) a multiple ack whose own tag was acked already.
 */
static void settle_front(struct tagmap *tm)
{
    int k = tm->head, last = -1;

    while (k < tm->len && tm->g[k].left == 0) {
        if (!tm->g[k].acked)
            last = k;
        xfree(tm->g[k].done);
        k++;
    }
    if (last >= 0)
        tm->fn(tm->ctx, tm->g[last].broker, 1);
    tm->head = k;
}

/* completed - group i just completed: ack it at once unless it is in front */
static void completed(struct tagmap *tm, int i)
{
    if (i == tm->head) {
        settle_front(tm);
        return;
    }
    tm->fn(tm->ctx, tm->g[i].broker, 0);
    tm->g[i].acked = 1;
}

void tagmap_ack(struct tagmap *tm, uint64_t local_tag)
{
    int i = find(tm, local_tag);

    if (i >= 0 && mark(&tm->g[i], local_tag))
        completed(tm, i);
}

void tagmap_ack_upto(struct tagmap *tm, uint64_t local_tag)
{
    int fresh = 0;

    for (int i = tm->head; i < tm->len && tm->g[i].first <= local_tag; i++) {
        struct tm_group *g = &tm->g[i];
        uint64_t last = g->first + (uint64_t)g->nparts - 1;
        if (last > local_tag)
            last = local_tag;
        for (uint64_t v = g->first; v <= last; v++)
            fresh |= mark(g, v);
    }
    if (!fresh)
        return;
    settle_front(tm);
    for (int i = tm->head; i < tm->len && tm->g[i].first <= local_tag; i++)
        if (tm->g[i].left == 0 && !tm->g[i].acked) {
            tm->fn(tm->ctx, tm->g[i].broker, 0);
            tm->g[i].acked = 1;
        }
}
