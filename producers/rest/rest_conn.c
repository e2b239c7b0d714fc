/*
 * rest_conn - each MHD thread owns one database connection and one
 * publishing broker connection in confirm mode (rabbitmq-c and Connector/C
 * handles are not thread-safe). They are opened on first use and reopened
 * after a failure, one attempt per request (mqpub.h's bounded policy), so a
 * request never waits for a long reconnect loop: the client gets 503 and
 * retries.
 *
 * rabbitmq-c sends heartbeats only from inside its calls, so a thread that
 * serves no request for a while would lose its broker connection to the
 * heartbeat timeout. The main thread therefore borrows idle handles (their
 * lock is free between requests) and lets rabbitmq-c serve the heartbeats.
 */
#include "producers/rest/rest.h"
#include "global/runtime/mqpub.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <pthread.h>

#define REST_CONN_MAX 1024

static __thread struct rest_conn *mine;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rest_conn *all[REST_CONN_MAX];
static int nall;

struct rest_conn *rest_conn_take(void)
{
    if (mine == NULL) {
        mine = xcalloc(1, sizeof(*mine));
        pthread_mutex_init(&mine->lock, NULL);
        pthread_mutex_lock(&lock);
        if (nall < REST_CONN_MAX)
            all[nall++] = mine;
        else
            msg_warn("more than %d threads: handles of the others are not kept alive",
                     REST_CONN_MAX);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&mine->lock);
    return mine;
}

void rest_conn_give(struct rest_conn *c)
{
    c->used = timeutil_mono_ms();
    pthread_mutex_unlock(&c->lock);
}

void rest_conn_keepalive(int64_t idle_ms)
{
    int64_t now = timeutil_mono_ms();

    pthread_mutex_lock(&lock);
    for (int i = 0; i < nall; i++) {
        struct rest_conn *c = all[i];
        if (pthread_mutex_trylock(&c->lock) != 0)
            continue;
        if (now - c->used >= idle_ms && c->pub)
            mqpub_poll(c->pub);
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&lock);
}

enum tx_code rest_conn_db(struct rest_conn *c)
{
    struct db_conf dc;

    if (c->db)
        return TX_OK;
    txconf_db(&dc);
    c->db = db_open(&dc);
    return c->db ? TX_OK : TX_RETRY_DB;
}

enum tx_code rest_conn_mq(struct rest_conn *c)
{
    if (c->pub == NULL)
        c->pub = mqpub_new(rest_conf.broker_url, "rest-publish", 0, 0);
    return mqpub_ready(c->pub);
}

void rest_conn_close_all(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nall; i++) {
        db_close(all[i]->db);
        mqpub_free(all[i]->pub);
        pthread_mutex_destroy(&all[i]->lock);
        xfree(all[i]);
    }
    nall = 0;
    pthread_mutex_unlock(&lock);
}
