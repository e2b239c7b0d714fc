/* mqpub - confirmed publishing; see mqpub.h. */
#include "global/runtime/mqpub.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

struct mqpub {
    char *url;
    char *name;
    int flags;
    int64_t pause_ms;
    int64_t retry_at; /* monotonic ms: no open attempt before */
    struct mq *mq;
};

struct mqpub *mqpub_new(const char *url, const char *name, int flags, int64_t pause_ms)
{
    struct mqpub *p = xcalloc(1, sizeof(*p));

    p->url = xstrdup(url);
    p->name = xstrdup(name);
    p->flags = flags;
    p->pause_ms = pause_ms;
    return p;
}

void mqpub_free(struct mqpub *p)
{
    if (p == NULL)
        return;
    mq_close(p->mq);
    xwipestr(p->url);
    xfree(p->name);
    xfree(p);
}

/* open_once - a fresh connection in confirm mode (and the topology); -1 when none */
static int open_once(struct mqpub *p)
{
    int64_t now = timeutil_mono_ms();

    mq_close(p->mq);
    p->mq = NULL;
    if (now < p->retry_at)
        return -1;
    p->mq = mq_open(p->url, p->name);
    if (p->mq && (((p->flags & MQPUB_DECLARE) && mq_declare_topology(p->mq) != TX_OK) ||
                  mq_confirm_mode(p->mq) != TX_OK)) {
        mq_close(p->mq);
        p->mq = NULL;
    }
    if (p->mq == NULL) {
        p->retry_at = now + p->pause_ms;
        return -1;
    }
    return 0;
}

enum tx_code mqpub_ready(struct mqpub *p)
{
    if (p->mq) {
        mq_poll(p->mq);
        if (!mq_broken(p->mq))
            return TX_OK;
    }
    return open_once(p) == 0 ? TX_OK : TX_RETRY_BROKER;
}

void mqpub_open_or_die(struct mqpub *p)
{
    if (p->mq == NULL)
        p->mq = mq_open_retry(p->url, p->name, (int)txconf.broker_reconnect_attempts);
    if (p->mq == NULL)
        msg_fatal("cannot connect to the broker");
    if (((p->flags & MQPUB_DECLARE) && mq_declare_topology(p->mq) != TX_OK) ||
        mq_confirm_mode(p->mq) != TX_OK)
        msg_fatal("cannot set up the broker topology");
}

enum tx_code mqpub_put(struct mqpub *p, const struct mqpub_msg *m, int n)
{
    if (p->mq == NULL)
        return TX_RETRY_BROKER;
    for (int i = 0; i < n; i++) {
        struct mq_props props = {m[i].cc, m[i].message_id, m[i].dead_reason, 0};
        if (mq_publish(p->mq, m[i].exchange, m[i].key, m[i].body, m[i].len, &props) != TX_OK)
            return TX_RETRY_BROKER;
    }
    return TX_OK;
}

enum tx_code mqpub_send(struct mqpub *p, const struct mqpub_msg *m, int n, int timeout_ms)
{
    if (mqpub_ready(p) != TX_OK)
        return TX_RETRY_BROKER;
    if (mqpub_put(p, m, n) == TX_OK && mq_wait_confirms(p->mq, timeout_ms) == TX_OK)
        return TX_OK;
    /* the confirm state is unknown: the next use starts on a fresh connection */
    mq_close(p->mq);
    p->mq = NULL;
    return TX_RETRY_BROKER;
}

void mqpub_recover(struct mqpub *p, enum tx_code (*again)(void *arg), void *arg, int timeout_ms,
                   const char *what)
{
    for (int round = 0;; round++) {
        if (round >= MQPUB_ROUNDS && p->mq && !mq_broken(p->mq))
            msg_fatal("the broker keeps refusing publishes (unroutable or nacked); "
                      "exiting without ack");
        msg_warn("publishing failed; reconnecting to publish %s again", what);
        if (p->mq == NULL)
            p->mq = mq_open_retry(p->url, p->name, (int)txconf.broker_reconnect_attempts);
        else if (mq_reconnect(p->mq, (int)txconf.broker_reconnect_attempts) != TX_OK) {
            mq_close(p->mq);
            p->mq = NULL;
        }
        if (p->mq == NULL || mq_confirm_mode(p->mq) != TX_OK)
            msg_fatal("broker unreachable after %lld attempts; exiting without ack",
                      txconf.broker_reconnect_attempts);
        if (again(arg) == TX_OK && mq_wait_confirms(p->mq, timeout_ms) == TX_OK)
            return;
    }
}

struct resend {
    struct mqpub *p;
    const struct mqpub_msg *m;
    int n;
};

static enum tx_code resend(void *arg)
{
    struct resend *r = arg;

    return mqpub_put(r->p, r->m, r->n);
}

void mqpub_send_or_die(struct mqpub *p, const struct mqpub_msg *m, int n, int timeout_ms)
{
    struct resend r = {p, m, n};
    char what[32];

    if (n <= 0)
        return;
    if (p->mq && mqpub_put(p, m, n) == TX_OK && mq_wait_confirms(p->mq, timeout_ms) == TX_OK)
        return;
    snprintf(what, sizeof(what), "%d messages", n);
    mqpub_recover(p, resend, &r, timeout_ms, what);
}

void mqpub_poll(struct mqpub *p)
{
    if (p->mq && !mq_broken(p->mq))
        mq_poll(p->mq);
}

struct mq *mqpub_conn(struct mqpub *p)
{
    return p->mq;
}
