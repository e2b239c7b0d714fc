/*
 * smtpd_queue - the pool of threads that do the blocking work, each with
 * its own database connection and its own publishing broker connection
 * (neither is thread-safe):
 *
 *   fast    source-IP authentication, the sender-domain lookup of MAIL,
 *           what an inbound RCPT address stands for (smtpd_inbound.c)
 *   commit  the end of a message: checks, suppression lookup, publish
 *           with confirm, acceptance record, then the 250 (or 451);
 *           inbound: publish with confirm, then the 250 (smtpd_inbound.c)
 *   slow    AUTH: the password KDF; at most smtpd_auth_threads at a time,
 *           so a password-guessing client never stalls commits
 *
 * Commits are taken in batches (up to smtpd_batch_max): every job of a
 * batch is published, the broker's confirms are awaited once, the
 * acceptance records are inserted in one transaction, and only then is
 * any of them answered 250. Any broker failure answers the whole batch
 * 451 4.3.0; when the transaction of the records fails, each record is
 * tried alone, and the jobs whose record cannot be written are answered
 * 451 (the first stage's tombstone took the key of a job it gave up on,
 * lib/global/intake/acceptance.h; a record found already there as our own 250 means
 * the batch's commit went through). A job that was published but has no
 * record is discarded by its first stage (docs/ENVELOPES.md), so a client
 * that got 451 never sees that message delivered.
 */
#include "smtpd.h"
#include "global/intake/acceptance.h"
#include "global/db.h"
#include "global/envelope.h"
#include "global/ids.h"
#include "global/metrics.h"
#include "global/runtime/mqpub.h"
#include "global/intake/suppress.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RECONNECT_PAUSE_MS 1000
#define IDLE_POLL_S 5
#define TEMPFAIL "451 4.3.0 Temporary failure, please retry"

struct tqueue {
    struct smtpd_task *head, *tail;
    int n;
};

struct pctx {
    struct db *db;
    struct mqpub *mq; /* mqpub.h: the bounded policy */
    int64_t db_retry_at;
};

enum { SUP_QUEUED, SUP_RUNNING, SUP_DONE, SUP_FAILED, SUP_TAKEN };

struct smtpd_sup {
    int refs;  /* under qlock */
    int state; /* under qlock */
    long long account_id;
    struct suppress_query *q; /* smtpd_job_keys; SUP_DONE: answered */
    size_t n;
    struct smtpd_sup *next;
};

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct tqueue fastq, commitq, slowq;
static struct smtpd_sup *suphead, *suptail;
static int slow_busy, stopping, nthreads;
static pthread_t *threads;
static char *broker_url;
static struct db_conf dbconf;

static void push(struct tqueue *q, struct smtpd_task *t)
{
    t->next = NULL;
    if (q->tail)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
    q->n++;
}

static struct smtpd_task *pop(struct tqueue *q)
{
    struct smtpd_task *t = q->head;

    if (t) {
        q->head = t->next;
        if (q->head == NULL)
            q->tail = NULL;
        q->n--;
        t->next = NULL;
    }
    return t;
}

void smtpd_queue_pool_submit(struct session *s)
{
    struct smtpd_task *t = &s->task;

    pthread_mutex_lock(&qlock);
    push(t->kind == T_COMMIT ? &commitq : t->kind == T_AUTH ? &slowq : &fastq, t);
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
}

/* ---- suppression lookups started at DATA ------------------------------------------ */

void smtpd_queue_sup_start(struct session *s)
{
    struct smtpd_txn *x = s->txn;
    struct smtpd_sup *p;

    if (x->sup || x->nrcpt == 0)
        return;
    p = xcalloc(1, sizeof(*p));
    p->refs = 2; /* the transaction and the queue */
    p->account_id = s->acct.id;
    p->q = smtpd_job_keys(x);
    p->n = (size_t)x->nrcpt;
    x->sup = p;
    pthread_mutex_lock(&qlock);
    if (suptail)
        suptail->next = p;
    else
        suphead = p;
    suptail = p;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
}

static void sup_unref_locked(struct smtpd_sup *p, struct smtpd_sup **dead)
{
    if (--p->refs == 0)
        *dead = p;
}

static void sup_free(struct smtpd_sup *p)
{
    if (p == NULL)
        return;
    xfree(p->q);
    xfree(p);
}

void smtpd_queue_sup_release(struct smtpd_sup *p)
{
    struct smtpd_sup *dead = NULL;

    if (p == NULL)
        return;
    pthread_mutex_lock(&qlock);
    sup_unref_locked(p, &dead);
    pthread_mutex_unlock(&qlock);
    sup_free(dead);
}

/* sup_run - one prefetch on a pool thread (qlock not held); skipped when nobody waits for it */
static void sup_run(struct db *db, struct smtpd_sup *p)
{
    struct smtpd_sup *dead = NULL;
    int skip;

    pthread_mutex_lock(&qlock);
    skip = p->state != SUP_QUEUED || p->refs == 1;
    if (!skip)
        p->state = SUP_RUNNING;
    pthread_mutex_unlock(&qlock);
    int ok = !skip && db && suppress_lookup(db, p->account_id, p->q, p->n) == TX_OK;
    pthread_mutex_lock(&qlock);
    if (!skip)
        p->state = ok ? SUP_DONE : SUP_FAILED;
    sup_unref_locked(p, &dead);
    pthread_mutex_unlock(&qlock);
    sup_free(dead);
}

/* sup_take - the prefetched answer of a transaction, or NULL (then the caller asks). Ownership: new. */
static struct suppress_query *sup_take(struct smtpd_sup *p)
{
    struct suppress_query *q = NULL;

    if (p == NULL)
        return NULL;
    pthread_mutex_lock(&qlock);
    if (p->state == SUP_DONE) {
        q = p->q;
        p->q = NULL;
    }
    if (p->state != SUP_RUNNING)
        p->state = SUP_TAKEN; /* a queued prefetch is no longer needed */
    pthread_mutex_unlock(&qlock);
    return q;
}

/* ---- connections ---------------------------------------------------------- */

static struct db *get_db(struct pctx *c)
{
    int64_t now = timeutil_mono_ms();

    if (c->db == NULL && now >= c->db_retry_at) {
        c->db = db_open(&dbconf);
        if (c->db == NULL)
            c->db_retry_at = now + RECONNECT_PAUSE_MS;
    }
    return c->db;
}

/* ---- fast and slow work ----------------------------------------------------------- */

static void run_one(struct pctx *c, struct smtpd_task *t)
{
    struct session *s = t->s;
    struct db *db = get_db(c);

    if (t->kind == T_RCPT) { /* inbound: the cache may answer without the database */
        smtpd_inbound_lookup(db, t);
        return;
    }
    if (db == NULL) {
        t->rc = TX_RETRY_DB;
        return;
    }
    switch (t->kind) {
    case T_IPAUTH:
        t->rc = auth_by_ip(db, s->ip, &t->acct);
        if (t->rc == TX_OK || t->rc == TX_REJECT_POLICY)
            smtpd_auth_ip_store(s->ip, &t->acct, t->rc == TX_OK);
        break;
    case T_AUTH: {
        int retry_after;
        t->rc = auth_basic(db, t->user, t->password, s->ip, &t->acct, &retry_after);
        explicit_bzero(t->password, strlen(t->password));
        break;
    }
    case T_MAIL: {
        /* the session's credential first (a copy: the session belongs to its loop) */
        struct auth_account a = s->acct;
        t->rc = auth_recheck(db, &a, s->ip);
        if (t->rc == TX_REJECT_POLICY)
            t->auth_gone = 1;
        if (t->rc != TX_OK)
            break;
        t->checked_ms = a.checked_ms;
        t->rc = senderdomain_lookup(db, s->acct.id, s->txn->from_domain, auth_cache_ttl_ms, &t->sd);
        break;
    }
    default:
        msg_panic("smtpd pool: task kind %d on the wrong queue", (int)t->kind);
    }
}

/* ---- commits --------------------------------------------------------------------- */

struct batch {
    struct smtpd_task *t[256];
    struct smtpd_job *job[256];
    char *body[256]; /* the encoded broker message */
    size_t len[256];
    int n;
};

static enum tx_code record_all(struct db *db, void *arg)
{
    struct batch *b = arg;

    for (int i = 0; i < b->n; i++) {
        enum tx_code rc;
        if (b->job[i] == NULL)
            continue;
        snprintf(b->t[i]->reply, sizeof(b->t[i]->reply), "250 2.0.0 Ok: queued as %s",
                 b->t[i]->job_id);
        if ((rc = smtpd_job_record(b->job[i], db, b->t[i]->reply)) != TX_OK)
            return rc;
    }
    return TX_OK;
}

/* own_record - 1 when job_id's row is our acceptance record (the batch's
 * commit went through before its outcome was lost), 0 when it is absent or
 * the first stage's tombstone */
static int own_record(struct db *db, const char *job_id)
{
    int status = 0;

    return db_errno(db) == DB_ER_DUP_ENTRY && acceptance_status(db, job_id, NULL, &status) == 1 &&
           status == 250;
}

/* tempfail - answer every job still in the batch 451 */
static void tempfail(struct batch *b, const char *why)
{
    for (int i = 0; i < b->n; i++) {
        if (b->job[i] == NULL)
            continue;
        snprintf(b->t[i]->reply, sizeof(b->t[i]->reply), TEMPFAIL);
        msg_warn("%s: job %s from [%s] not queued: %s", b->t[i]->s->id, b->t[i]->job_id,
                 b->t[i]->s->ip, why);
        smtpd_job_free(b->job[i]);
        b->job[i] = NULL;
    }
}

static const char UNAVAILABLE[] = "broker unavailable";

/* publish_batch - every job of the batch, confirmed; NULL or why not */
static const char *publish_batch(struct pctx *c, struct batch *b)
{
    struct mqpub_msg m[256];
    char first[256][ENVELOPE_STAGE_MAX];
    int n = 0;

    if (mqpub_ready(c->mq) != TX_OK)
        return UNAVAILABLE;
    for (int i = 0; i < b->n; i++) {
        if (b->job[i] == NULL)
            continue;
        if (b->body[i] == NULL && smtpd_job_encode(b->job[i], &b->body[i], &b->len[i]) < 0) {
            snprintf(b->t[i]->reply, sizeof(b->t[i]->reply), "554 5.6.0 Message cannot be encoded");
            smtpd_job_free(b->job[i]);
            b->job[i] = NULL;
            continue;
        }
        smtpd_job_first_stage(b->job[i], first[n], sizeof(first[n]));
        m[n] = (struct mqpub_msg){MQ_EXCHANGE_WORK, first[n],  NULL,           NULL,
                                  b->body[i],       b->len[i], b->t[i]->job_id};
        n++;
    }
    if (mqpub_send(c->mq, m, n, (int)smtpd_conf.confirm_timeout) != TX_OK)
        return "the broker did not confirm";
    return NULL;
}

/* check_jobs - a job id, the checks and the message, per task; how many passed */
static int check_jobs(struct batch *b)
{
    int pending = 0;

    for (int i = 0; i < b->n; i++) {
        struct smtpd_task *t = b->t[i];
        struct uuid u;

        ids_uuid_v7(&u);
        ids_uuid_format(t->job_id, &u);
        if (smtpd_job_check(t->s, t->job_id, &b->job[i], t->reply, sizeof(t->reply)) == 0)
            pending++;
    }
    return pending;
}

/* add_recipients - each job's recipients, after the suppression lookup; a
 * job whose lookup fails is answered 451 */
static void add_recipients(struct db *db, struct batch *b)
{
    for (int i = 0; i < b->n; i++) {
        const struct session *s = b->t[i]->s;
        struct suppress_query *q;
        if (b->job[i] == NULL)
            continue;
        if ((q = sup_take(s->txn->sup)) == NULL) {
            q = smtpd_job_keys(s->txn);
            if (suppress_lookup(db, s->acct.id, q, (size_t)s->txn->nrcpt) != TX_OK) {
                xfree(q);
                snprintf(b->t[i]->reply, sizeof(b->t[i]->reply), TEMPFAIL);
                msg_warn("%s: job %s not queued: suppression lookup failed", s->id,
                         b->t[i]->job_id);
                smtpd_job_free(b->job[i]);
                b->job[i] = NULL;
                continue;
            }
        }
        smtpd_job_recipients(b->job[i], s, q);
        xfree(q);
    }
}

/*
 * publish_all - publish every job, then wait for the broker's confirms
 * once; a connection found dead (idle too long, broker restarted) gets one
 * fresh try before the batch is answered 451. 0, or -1 when answered 451.
 */
static int publish_all(struct pctx *c, struct batch *b)
{
    for (int attempt = 0;; attempt++) {
        const char *why = publish_batch(c, b);
        if (why == NULL)
            return 0;
        if (attempt == 0 && why != UNAVAILABLE) {
            msg_info("publishing connection lost (%s): reconnecting", why);
            continue;
        }
        tempfail(b, why);
        return -1;
    }
}

/*
 * record_batch - the acceptance records, in one transaction (one statement
 * alone needs none). 0, or -1 when the batch was answered 451.
 */
static int record_batch(struct db *db, struct batch *b)
{
    int nrec = 0;
    for (int i = 0; i < b->n; i++)
        nrec += b->job[i] != NULL;
    if ((nrec == 1 ? record_all(db, b) : db_tx_run(db, 2, record_all, b)) == TX_OK)
        return 0;
    /* one record at a time, so that one that cannot be written (the
     * first stage's tombstone took its key: the job was discarded)
     * does not fail the others */
    for (int i = 0; nrec > 1 && i < b->n; i++) {
        struct batch one;
        if (b->job[i] == NULL)
            continue;
        one.n = 1;
        one.t[0] = b->t[i];
        one.job[0] = b->job[i];
        if (record_all(db, &one) == TX_OK || own_record(db, b->t[i]->job_id))
            continue;
        snprintf(b->t[i]->reply, sizeof(b->t[i]->reply), TEMPFAIL);
        msg_warn("%s: job %s from [%s] not queued: the acceptance record could not be written",
                 b->t[i]->s->id, b->t[i]->job_id, b->t[i]->s->ip);
        smtpd_job_free(b->job[i]);
        b->job[i] = NULL;
    }
    if (nrec == 1) {
        for (int i = 0; i < b->n; i++)
            if (b->job[i])
                b->t[i]->reply[0] = 0;
        tempfail(b, "the acceptance record could not be written");
        return -1;
    }
    return 0;
}

/* run_commits - one batch of DATA commits: checks, suppression, publish, records, answers */
static void run_commits(struct pctx *c, struct batch *b)
{
    int64_t t0 = timeutil_mono_ms();
    struct db *db;
    int pending = check_jobs(b);
    int64_t t1 = timeutil_mono_ms(), t2 = t1, t3 = t1;

    if (pending == 0)
        goto out;
    if ((db = get_db(c)) == NULL) {
        tempfail(b, "database unavailable");
        goto out;
    }
    add_recipients(db, b);
    t2 = timeutil_mono_ms();
    if (publish_all(c, b) < 0)
        goto out;
    t3 = timeutil_mono_ms();
    /* the acceptance records; then the answers */
    if (record_batch(db, b) < 0)
        goto out;
    for (int i = 0; i < b->n; i++)
        if (b->job[i]) {
            smtpd_job_log(b->job[i], b->t[i]->s, "queued");
            metrics_latency(timeutil_mono_ms() - t0);
        }
    if (msg_verbose)
        msg_debug(
            "commit batch of %d: check %lld ms, suppression %lld ms, publish+confirm %lld ms, "
            "records %lld ms",
            b->n, (long long)(t1 - t0), (long long)(t2 - t1), (long long)(t3 - t2),
            (long long)(timeutil_mono_ms() - t3));
out:
    for (int i = 0; i < b->n; i++) {
        smtpd_job_free(b->job[i]);
        b->job[i] = NULL;
        xfree(b->body[i]);
        b->body[i] = NULL;
        smtpd_server_loop_complete(b->t[i]->s->loop, b->t[i]);
    }
    metrics_count("txmail_smtpd_commit_batches_total", NULL, NULL, 1);
}

/* ---- the threads ------------------------------------------------------------------ */

static void *pool_main(void *arg)
{
    struct pctx c;
    struct batch *b = xcalloc(1, sizeof(*b));

    (void)arg;
    memset(&c, 0, sizeof(c));
    c.mq = mqpub_new(broker_url, "smtpd-publish", 0, RECONNECT_PAUSE_MS);
    get_db(&c);
    mqpub_ready(c.mq);
    for (;;) {
        struct smtpd_task *t = NULL;
        int slow = 0;

        int idle = 0;
        pthread_mutex_lock(&qlock);
        while (!stopping && !fastq.head && !commitq.head && !suphead &&
               !(slowq.head && slow_busy < smtpd_conf.auth_threads) && !idle) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += IDLE_POLL_S;
            idle = pthread_cond_timedwait(&qcond, &qlock, &until) == ETIMEDOUT;
        }
        if (idle && !stopping && !fastq.head && !commitq.head && !slowq.head && !suphead) {
            /* keep the broker connection alive: heartbeats are only
             * served while the connection is used */
            pthread_mutex_unlock(&qlock);
            mqpub_poll(c.mq);
            continue;
        }
        if (stopping && !fastq.head && !commitq.head && !slowq.head && !suphead) {
            pthread_mutex_unlock(&qlock);
            break;
        }
        b->n = 0;
        if (suphead && !fastq.head) {
            struct smtpd_sup *p = suphead;
            suphead = p->next;
            if (suphead == NULL)
                suptail = NULL;
            p->next = NULL;
            pthread_mutex_unlock(&qlock);
            sup_run(get_db(&c), p);
            continue;
        }
        if ((t = pop(&fastq)) == NULL) {
            if (commitq.head) {
                int max = smtpd_conf.batch_max < 256 ? (int)smtpd_conf.batch_max : 256;
                while (b->n < max && (t = pop(&commitq)) != NULL)
                    b->t[b->n++] = t;
                t = NULL;
            } else if ((t = pop(&slowq)) != NULL) {
                slow = 1;
                slow_busy++;
            }
        }
        pthread_mutex_unlock(&qlock);
        if (b->n) {
            if (smtpd_conf.policy == SMTPD_INBOUND)
                smtpd_inbound_commit(c.mq, b->t, b->n);
            else
                run_commits(&c, b);
            continue;
        }
        if (t == NULL)
            continue;
        run_one(&c, t);
        smtpd_server_loop_complete(t->s->loop, t);
        if (slow) {
            pthread_mutex_lock(&qlock);
            slow_busy--;
            pthread_cond_broadcast(&qcond);
            pthread_mutex_unlock(&qlock);
        }
    }
    db_close(c.db);
    mqpub_free(c.mq);
    xfree(b);
    return NULL;
}

void smtpd_queue_pool_start(void)
{
    struct mq *mq;

    broker_url = txconf_broker_url();
    txconf_db(&dbconf);
    /* the topology the jobs need (idempotent); the broker may be down now */
    if ((mq = mq_open(broker_url, "smtpd-declare")) != NULL) {
        if (mq_declare_topology(mq) != TX_OK)
            msg_warn("cannot declare the broker topology");
        mq_close(mq);
    } else {
        msg_warn("broker unreachable at start: answering 451 until it is back");
    }
    nthreads = (int)smtpd_conf.threads;
    threads = xcalloc((size_t)nthreads, sizeof(*threads));
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&threads[i], NULL, pool_main, NULL) != 0)
            msg_fatal("cannot start the pool threads");
}

void smtpd_queue_pool_stop(void)
{
    pthread_mutex_lock(&qlock);
    stopping = 1;
    pthread_cond_broadcast(&qcond);
    pthread_mutex_unlock(&qlock);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    xfree(threads);
    xfree(broker_url);
}
