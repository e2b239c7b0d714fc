/*
 * deliver_dest - per-destination concurrency (after Postfix qmgr's
 * default_destination_concurrency_limit): at most
 * deliver_destination_concurrency_limit handler threads of this process
 * hold a session with one destination at a time. A destination is a next
 * hop (the recipient domain's MX, a relay host, a transport route) and,
 * separately, an endpoint (address, port, source address), so many
 * domains whose MX points at one server share that server's limit.
 *
 * A slow or tarpitting destination can therefore hold only that many
 * threads; the others stay free for everyone else. A message whose
 * destination is at its limit is not waited for: deliver_send_attempt()
 * reports it throttled and the message goes back through the delay
 * queues (deliver_destination_retry) without a DEFERRED event or a
 * counted attempt - it was never tried. Idle cached connections hold no
 * slot: only sessions in use by a thread count.
 *
 * The table holds one entry per destination in use, so at most two per
 * handler thread; a linear list under one lock is enough.
 */
#include "workers/deliver/deliver.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct dest {
    char key[DEST_KEY_MAX];
    int n;
    struct dest *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct dest *busy;

int deliver_dest_take(const char *key)
{
    struct dest *d;
    int ok = 0;

    pthread_mutex_lock(&lock);
    for (d = busy; d; d = d->next)
        if (strcmp(d->key, key) == 0)
            break;
    if (d == NULL) {
        d = xcalloc(1, sizeof(*d));
        snprintf(d->key, sizeof(d->key), "%s", key);
        d->next = busy;
        busy = d;
    }
    if (d->n < deliver_conf.dest_limit) {
        d->n++;
        ok = 1;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

void deliver_dest_give(const char *key)
{
    struct dest **pp, *gone = NULL;

    pthread_mutex_lock(&lock);
    for (pp = &busy; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->key, key) == 0)
            break;
    if (*pp == NULL)
        msg_panic("deliver_dest_give: %s is not taken", key);
    if (--(*pp)->n == 0) {
        gone = *pp;
        *pp = gone->next;
    }
    pthread_mutex_unlock(&lock);
    xfree(gone);
}
