/*
 * rest_conn - each MHD thread owns one database connection and one
 * publishing broker connection in confirm mode (rabbitmq-c and Connector/C
 * handles are not thread-safe). They are opened on first use and reopened
 * after a failure, one attempt per request, so a request never waits for a
 * long reconnect loop: the client gets 503 and retries.
 */
#include "producers/rest/rest.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <pthread.h>

#define REST_CONN_MAX 1024

static __thread struct rest_conn *mine;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rest_conn *all[REST_CONN_MAX];
static int nall;

struct rest_conn *rest_conn_get(void)
{
    if (mine == NULL) {
        mine = xcalloc(1, sizeof(*mine));
        pthread_mutex_lock(&lock);
        if (nall < REST_CONN_MAX)
            all[nall++] = mine;
        pthread_mutex_unlock(&lock);
    }
    return mine;
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
    if (c->pub == NULL) {
        c->pub = mq_open(rest_conf.broker_url, "rest-publish");
        if (c->pub == NULL)
            return TX_RETRY_BROKER;
        if (mq_confirm_mode(c->pub) != TX_OK) {
            mq_close(c->pub);
            c->pub = NULL;
            return TX_RETRY_BROKER;
        }
        return TX_OK;
    }
    /* read what the broker sent meanwhile: a close, or EOF after a restart */
    mq_poll(c->pub);
    if (mq_broken(c->pub) && mq_reconnect(c->pub, 1) != TX_OK)
        return TX_RETRY_BROKER;
    return TX_OK;
}

void rest_conn_close_all(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nall; i++) {
        db_close(all[i]->db);
        mq_close(all[i]->pub);
        xfree(all[i]);
    }
    nall = 0;
    pthread_mutex_unlock(&lock);
}
