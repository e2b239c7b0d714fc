/* worker - the worker skeleton; see worker.h. */
#include "global/runtime/worker.h"
#include "global/runtime/batchloop.h"
#include "global/runtime/evbatch.h"
#include "global/metrics.h"
#include "global/txconf.h"
#include "global/runtime/worker_int.h"
#include "util/fifo.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKER_IDLE_MS 500 /* longest wait for news with nothing awaiting */
#define WORKER_AWAIT_MS 50 /* with outputs awaiting their confirms */

struct worker_params worker_p;
struct worker *worker_w;
int worker_inflight;

/* the handler thread pool */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct fifo todo = FIFO_INIT(struct job, next); /* delivered, not started */
static struct job *done_head;
static int pool_closing; /* under qlock: the threads may exit */
static int nthreads;
static pthread_t *threads;
static int wake_fd = -1; /* eventfd: a handler finished a job */

int worker_stopping(void)
{
    return batchloop_stopping();
}

/* ---- the handler API ------------------------------------------------------ */

const char *worker_job_log_id(const struct job *job)
{
    return job->env.rid[0] ? job->env.rid : job->env.job_id[0] ? job->env.job_id : "-";
}

void worker_job_reason(struct job *job, const char *fmt, ...)
{
    va_list ap;

    if (job->reason[0])
        return;
    va_start(ap, fmt);
    vsnprintf(job->reason, sizeof(job->reason), fmt, ap);
    va_end(ap);
}

void worker_job_publish(struct job *job, const char *exchange, const char *key, const char *cc,
                        char *body, size_t len)
{
    struct job_out *o;

    if (job->nouts == job->capouts) {
        job->capouts = job->capouts ? job->capouts * 2 : 4;
        job->outs = xrealloc(job->outs, job->capouts * sizeof(*job->outs));
    }
    o = &job->outs[job->nouts++];
    snprintf(o->exchange, sizeof(o->exchange), "%s", exchange);
    snprintf(o->key, sizeof(o->key), "%s", key);
    snprintf(o->cc, sizeof(o->cc), "%s", cc ? cc : "");
    o->dead_reason[0] = 0;
    o->body = body;
    o->len = len;
    o->parts = 1;
}

void worker_job_forward(struct job *job, struct envelope *out)
{
    const char *stage = envelope_stage(out);
    char *body;
    size_t len;

    if (stage == NULL) {
        envelope_free(out);
        return;
    }
    if (envelope_encode(out, &body, &len) < 0)
        msg_panic("cannot encode an envelope for %s", stage);
    worker_job_publish(job, MQ_EXCHANGE_WORK, stage, NULL, body, len);
    envelope_free(out);
}

void worker_job_derive(struct job *job, const char *type, struct envelope *out)
{
    envelope_init(out, type);
    memcpy(out->job_id, job->env.job_id, sizeof(out->job_id));
    memcpy(out->rid, job->env.rid, sizeof(out->rid));
    out->account_id = job->env.account_id;
    out->created_ms = job->env.created_ms;
    out->deferrals = job->env.deferrals;
    memcpy(out->slip, job->env.slip, sizeof(out->slip));
    out->nslip = job->env.nslip;
    envelope_pop(out);
}

void worker_job_forward_input(struct job *job)
{
    struct envelope out;

    out = job->env;
    out.data = json_incref(job->env.data);
    out.raw_owned = NULL;
    envelope_pop(&out);
    if (envelope_stage(&out) == NULL) {
        json_decref(out.data);
        return;
    }
    char *body;
    size_t len;
    if (envelope_encode(&out, &body, &len) < 0)
        msg_panic("cannot encode an envelope");
    worker_job_publish(job, MQ_EXCHANGE_WORK, envelope_stage(&out), NULL, body, len);
    json_decref(out.data);
}

struct job_out *worker_event_target(struct job *job, const char *key, int parts)
{
    for (int i = job->nouts - 1; i >= job->sealed; i--) {
        struct job_out *o = &job->outs[i];
        if (strcmp(o->exchange, MQ_EXCHANGE_EVENTS) == 0 &&
            o->parts + parts <= WORKER_EVENTS_PER_MESSAGE && strcmp(o->key, key) == 0)
            return o;
    }
    return NULL;
}

void worker_job_event(struct job *job, const struct tx_event *ev)
{
    json_t *o = event_json(ev);
    char key[128];
    char *body = json_dumps(o, JSON_COMPACT);

    json_decref(o);
    if (body == NULL)
        msg_panic("cannot encode an event");
    event_routing_key(key, sizeof(key), ev);
    struct job_out *t = worker_event_target(job, key, 1);
    if (t) {
        evbatch_join(&t->body, &t->len, &t->parts, body, strlen(body), 1);
        free(body);
        return;
    }
    worker_job_publish(job, MQ_EXCHANGE_EVENTS, key, NULL, body, strlen(body));
}


void worker_drop_job(struct job *job)
{
    if (job == NULL)
        return;
    for (int i = 0; i < job->nouts; i++)
        xfree(job->outs[i].body);
    xfree(job->outs);
    envelope_free(&job->env);
    mq_delivery_free(&job->dlv);
    xfree(job);
}

/* ---- the handler threads -------------------------------------------------- */

/* run_handler - call handle() unless the job is already settled */
static void run_handler(struct job *job)
{
    job->started_ms = timeutil_mono_ms();
    job->count_attempt = 1;
    job->code = worker_job_run(worker_w, job);
}

static void *thread_main(void *arg)
{
    void *ctx = worker_w->thread_init ? worker_w->thread_init() : NULL;
    sigset_t set;

    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (fifo_count(&todo) == 0 && !pool_closing)
            pthread_cond_wait(&qcond, &qlock);
        struct job *job = fifo_pop(&todo);
        pthread_mutex_unlock(&qlock);
        if (job == NULL)
            break;
        job->ctx = ctx;
        job->next = NULL;
        run_handler(job);
        pthread_mutex_lock(&qlock);
        job->next = done_head;
        done_head = job;
        pthread_mutex_unlock(&qlock);
        uint64_t one = 1;
        if (write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            msg_warn("eventfd write: %m");
    }
    if (worker_w->thread_done)
        worker_w->thread_done(ctx);
    return NULL;
}

/* ---- the runtime's program ------------------------------------------------ */

/*
 * on_deliver - decode; hand valid jobs to the pool; settle at once what
 * needs no handler (malformed, early arrival) and publish it.
 */
static void on_deliver(struct mq_delivery *d, unsigned epoch, void *arg)
{
    struct job *job = xcalloc(1, sizeof(*job));
    char err[256];
    int64_t left;

    (void)arg;
    job->dlv = *d;
    job->epoch = epoch;
    job->started_ms = timeutil_mono_ms();
    worker_inflight++;
    if (envelope_decode(&job->env, d->body, d->len, err, sizeof(err)) < 0) {
        worker_settle_dead(job, err);
    } else if (envelope_stage(&job->env) == NULL) {
        worker_settle_dead(job, "empty routing slip");
    } else if ((left = delaytier_left(job->env.due_ms, timeutil_now_ms())) > 0) {
        worker_settle_later(job, left, 0);
    } else {
        pthread_mutex_lock(&qlock);
        fifo_push(&todo, job);
        pthread_cond_signal(&qcond);
        pthread_mutex_unlock(&qlock);
        return;
    }
    worker_confirm_finish(job);
}

static struct job *take_done(void)
{
    pthread_mutex_lock(&qlock);
    struct job *list = done_head;
    done_head = NULL;
    pthread_mutex_unlock(&qlock);
    return list;
}

/* drop_todo - forget the jobs not started (unacked: the broker returns them) */
static void drop_todo(void)
{
    struct job *j;

    pthread_mutex_lock(&qlock);
    while ((j = fifo_pop(&todo)) != NULL) {
        worker_drop_job(j);
        worker_inflight--;
    }
    pthread_mutex_unlock(&qlock);
}

/*
 * on_work - settle and publish what the handlers finished, ack what is
 * confirmed. Stopping, the jobs not started go back.
 */
static int64_t on_work(int64_t budget_ms, int stopping, void *arg)
{
    struct job *list = NULL, **tail = &list, *next;
    int n = 0;

    (void)budget_ms;
    (void)arg;
    if (stopping)
        drop_todo();
    for (struct job *j = take_done(); j; j = next) {
        next = j->next;
        worker_settle(j);
        j->next = NULL;
        *tail = j;
        tail = &j->next;
        n++;
    }
    worker_confirm_finish(list);
    worker_confirm_process();
    if (n)
        return 0;
    return worker_confirm_awaiting() ? WORKER_AWAIT_MS : WORKER_IDLE_MS;
}

/*
 * on_lost - the consumer's epoch is over: drop what is awaiting or not
 * started, let the running handlers finish and drop their results, so
 * that no job of the old epoch runs while its redelivery does
 */
static void on_lost(void *arg)
{
    (void)arg;
    worker_confirm_drop();
    drop_todo();
    while (worker_inflight > 0) {
        timeutil_sleep_ms(20);
        for (struct job *j = take_done(), *next; j; j = next) {
            next = j->next;
            worker_drop_job(j);
            worker_inflight--;
        }
    }
}

static int on_busy(void *arg)
{
    (void)arg;
    return worker_inflight;
}

static void on_report(void *arg)
{
    (void)arg;
    metrics_gauge("txmail_awaiting_confirm", worker_confirm_awaiting());
}

/* ---- configuration ---------------------------------------------------- */

static struct cfg_param *skeleton_table(const struct worker *w)
{
    struct cfg_param own[6];
    char conc[16];
    int i = 0;

    snprintf(conc, sizeof(conc), "%d", w->default_concurrency > 0 ? w->default_concurrency : 1);
    own[i++] = (struct cfg_param){xasprintf("%s_concurrency", w->name),
                                  CFG_INT,
                                  &worker_p.concurrency,
                                  xstrdup(conc),
                                  1,
                                  1024,
                                  0,
                                  "handler threads",
                                  0,
                                  0};
    own[i++] = (struct cfg_param){xasprintf("%s_retry_schedule", w->name),
                                  CFG_STR,
                                  &worker_p.schedule,
                                  w->default_schedule ? w->default_schedule : "10s,1m,5m,15m,1h",
                                  0,
                                  0,
                                  0,
                                  "retry delays; the last repeats",
                                  0,
                                  0};
    own[i++] = (struct cfg_param){xasprintf("%s_max_age", w->name),
                                  CFG_TIME,
                                  &worker_p.max_age,
                                  w->default_max_age ? w->default_max_age : "2d",
                                  1000,
                                  45LL * 86400000,
                                  0,
                                  "give up retrying after this age",
                                  0,
                                  0};
    own[i++] = (struct cfg_param){xasprintf("%s_max_attempts", w->name),
                                  CFG_INT,
                                  &worker_p.max_attempts,
                                  "0",
                                  0,
                                  1000000,
                                  0,
                                  "give up after this many tries (0: by age only)",
                                  0,
                                  0};
    own[i++] = (struct cfg_param){xasprintf("%s_confirm_timeout", w->name),
                                  CFG_TIME,
                                  &worker_p.confirm_timeout,
                                  "30s",
                                  100,
                                  600000,
                                  0,
                                  "wait for broker confirms",
                                  0,
                                  0};
    own[i] = (struct cfg_param){0};
    return batchloop_table(w->name, own, w->queue ? w->queue : w->name, "0", 0,
                           "prefetch (0: 2 x concurrency, at least 16)", NULL);
}

/* configure - the program's table and the skeleton's; returns the skeleton's */
static struct cfg_param *configure(int argc, char **argv, struct worker *w)
{
    struct cfg_param *skel = skeleton_table(w);
    int nown = 0, nskel = 0;

    while (w->params && w->params[nown].name)
        nown++;
    while (skel[nskel].name)
        nskel++;
    struct cfg_param *all = xcalloc((size_t)(nown + nskel) + 1, sizeof(*all));
    if (nown)
        memcpy(all, w->params, sizeof(*all) * (size_t)nown);
    memcpy(all + nown, skel, sizeof(*all) * (size_t)nskel);
    xfree(skel);
    txconf_init(argc, argv, w->name, all, NULL, NULL);
    if (delaytier_parse(&worker_p.sched, worker_p.schedule) < 0)
        msg_fatal("%s_retry_schedule: bad delay in \"%s\"", w->name, worker_p.schedule);
    if (batchloop_p.prefetch == 0)
        batchloop_p.prefetch = worker_p.concurrency * 2 < 16 ? 16 : worker_p.concurrency * 2;
    return all;
}

static void pool_start(void)
{
    if ((wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        msg_fatal("eventfd: %m");
    nthreads = (int)worker_p.concurrency;
    threads = xcalloc((size_t)nthreads, sizeof(*threads));
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&threads[i], NULL, thread_main, NULL) != 0)
            msg_fatal("pthread_create: %m");
}

static void pool_stop(void)
{
    pthread_mutex_lock(&qlock);
    pool_closing = 1;
    pthread_cond_broadcast(&qcond);
    pthread_mutex_unlock(&qlock);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    xfree(threads);
    close(wake_fd);
}

int worker_main(int argc, char **argv, struct worker *w)
{
    struct batchloop_conf bc;
    struct batchloop_ops ops = {on_deliver, on_work, on_lost, on_busy, on_report};
    struct cfg_param *all;

    worker_w = w;
    all = configure(argc, argv, w);
    if (w->init && w->init() != 0)
        msg_fatal("initialisation failed");
    memset(&bc, 0, sizeof(bc));
    bc.name = w->name;
    bc.queues[0] = batchloop_p.queue;
    bc.prefetch = (int)batchloop_p.prefetch;
    bc.stop_timeout_ms = -1;
    pool_start();
    batchloop_wake_fd(wake_fd);
    msg_info("handler threads: %d", nthreads);
    batchloop_run(&bc, &ops, NULL);
    pool_stop();
    if (w->shutdown)
        w->shutdown();
    for (struct cfg_param *p = all; p->name; p++)
        if (p->ptr == &worker_p.concurrency)
            xfree((void *)p->def);
    for (struct cfg_param *p = all; p->name; p++)
        if (p->ptr == &worker_p.concurrency || p->ptr == &worker_p.schedule ||
            p->ptr == &worker_p.max_age || p->ptr == &worker_p.max_attempts ||
            p->ptr == &worker_p.confirm_timeout)
            xfree((void *)p->name);
    batchloop_table_free(all);
    xfree(txconf.config_path);
    return 0;
}
