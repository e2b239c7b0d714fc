/* worker - the worker skeleton; see worker.h. */
#include "global/worker.h"
#include "global/metrics.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKER_SCHEDULE_MAX 32

static volatile sig_atomic_t stopping;

/* skeleton parameters, named after the program at run time */
static char *p_queue, *p_schedule;
static long long p_concurrency, p_prefetch, p_max_attempts;
static int64_t p_max_age, p_confirm_timeout;
static int64_t schedule[WORKER_SCHEDULE_MAX];
static int nschedule;

static struct worker *W;
static struct mq *consumer, *publisher;

/* the handler thread pool */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct job *todo_head, *todo_tail, *done_head;
static int inflight;            /* delivered and not yet acked/returned */
static int nthreads;
static pthread_t *threads;
static int wake_fd = -1;         /* eventfd: a handler finished a job */

int worker_stopping(void)
{
    return stopping;
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

const char *worker_tier_for(int64_t delay_ms, int64_t *tier_ms)
{
    int best = 0;

    for (int i = 0; mq_tier_names[i]; i++)
        if (mq_tier_ms[i] <= delay_ms)
            best = i;
    *tier_ms = mq_tier_ms[best];
    return mq_tier_names[best];
}

const char *job_id_for_log(const struct job *job)
{
    return job->env.rid[0] ? job->env.rid : job->env.job_id[0] ? job->env.job_id : "-";
}

void job_reason(struct job *job, const char *fmt, ...)
{
    va_list ap;

    if (job->reason[0])
        return;
    va_start(ap, fmt);
    vsnprintf(job->reason, sizeof(job->reason), fmt, ap);
    va_end(ap);
}

void job_publish(struct job *job, const char *exchange, const char *key,
                 const char *cc, char *body, size_t len)
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

void job_forward(struct job *job, struct envelope *out)
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
    job_publish(job, MQ_EXCHANGE_WORK, stage, NULL, body, len);
    envelope_free(out);
}

void job_derive(struct job *job, const char *type, struct envelope *out)
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

void job_forward_input(struct job *job)
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
    job_publish(job, MQ_EXCHANGE_WORK, envelope_stage(&out), NULL, body, len);
    json_decref(out.data);
}

static int is_event(const struct job_out *o)
{
    return strcmp(o->exchange, MQ_EXCHANGE_EVENTS) == 0;
}

/*
 * pack_join - append an event message (one object, or an array of parts
 * objects) to the event message o of the same key: "{a}" + "{b}" ->
 * "[{a},{b}]", "[...]" + "[{c},{d}]" -> "[...,{c},{d}]".
 */
static void pack_join(struct job_out *o, const char *body, size_t len, int parts)
{
    const char *add = parts > 1 ? body + 1 : body;          /* without its '[' */
    size_t addlen = parts > 1 ? len - 2 : len;               /* nor its ']' */
    size_t keep = o->parts > 1 ? o->len - 1 : o->len;        /* without our ']' */
    int wrap = o->parts == 1;
    char *nb = xmalloc(keep + addlen + 4);                   /* [ , ] NUL */
    size_t n = 0;

    if (wrap)
        nb[n++] = '[';
    memcpy(nb + n, o->body, keep);
    n += keep;
    nb[n++] = ',';
    memcpy(nb + n, add, addlen);
    n += addlen;
    nb[n++] = ']';
    nb[n] = 0;
    xfree(o->body);
    o->body = nb;
    o->len = n;
    o->parts += parts;
}

/* pack_target - an event message of key in job with room for parts more, or NULL */
static struct job_out *pack_target(struct job *job, const char *key, int parts)
{
    for (int i = job->nouts - 1; i >= job->sealed; i--) {
        struct job_out *o = &job->outs[i];
        if (is_event(o) && o->parts + parts <= WORKER_EVENTS_PER_MESSAGE && strcmp(o->key, key) == 0)
            return o;
    }
    return NULL;
}

/* pack_event - add body to an event of the same key queued by this job; 1 when done */
static int pack_event(struct job *job, const char *key, const char *body, size_t len)
{
    struct job_out *o = pack_target(job, key, 1);

    if (o == NULL)
        return 0;
    pack_join(o, body, len, 1);
    return 1;
}

/*
 * pack_across - the events of a list of settled jobs that are published
 * together join the first event message of their key in an earlier job of
 * the list (render's STARTED events of 20 jobs: one broker message instead
 * of 20). Safe because the earlier job is published first and jobs are
 * acked in order: a job is acked only once every publish before its own,
 * the joined events included, is confirmed; after a publisher failure the
 * earlier job, still awaiting, publishes them again.
 */
/* target_before - an event message in a job of list before j that o can join, or NULL */
static struct job_out *target_before(struct job *list, struct job *j, const struct job_out *o)
{
    struct job_out *t = NULL;

    if (!is_event(o) || o->cc[0] || o->dead_reason[0])
        return NULL;
    for (struct job *e = list; e != j && t == NULL; e = e->next)
        t = pack_target(e, o->key, o->parts);
    return t;
}

static void pack_across(struct job *list)
{
    for (struct job *j = list ? list->next : NULL; j; j = j->next) {
        int keep = 0;
        for (int i = 0; i < j->nouts; i++) {
            struct job_out *o = &j->outs[i], *t = target_before(list, j, o);
            if (t == NULL) {
                j->outs[keep++] = *o;
                continue;
            }
            pack_join(t, o->body, o->len, o->parts);
            xfree(o->body);
        }
        j->nouts = keep;
    }
}

void job_event(struct job *job, const struct tx_event *ev)
{
    json_t *o = event_json(ev);
    char key[128];
    char *body = json_dumps(o, JSON_COMPACT);

    json_decref(o);
    if (body == NULL)
        msg_panic("cannot encode an event");
    event_routing_key(key, sizeof(key), ev);
    if (pack_event(job, key, body, strlen(body))) {
        free(body);
        return;
    }
    job_publish(job, MQ_EXCHANGE_EVENTS, key, NULL, body, strlen(body));
}

static void job_free(struct job *job)
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

static void drop_outputs(struct job *job)
{
    for (int i = 0; i < job->nouts; i++)
        xfree(job->outs[i].body);
    job->nouts = 0;
}

/* ---- configuration ---------------------------------------------------- */

static struct cfg_param *skeleton_table(const struct worker *w)
{
    struct cfg_param *t = xcalloc(8 + 1, sizeof(*t));
    char conc[16];
    int i = 0;

    snprintf(conc, sizeof(conc), "%d", w->default_concurrency > 0 ? w->default_concurrency : 1);
    t[i++] = (struct cfg_param){xasprintf("%s_queue", w->name), CFG_STR, &p_queue,
                                w->queue ? w->queue : w->name, 0, 0, 0, "queue consumed", 0, 0};
    t[i++] = (struct cfg_param){xasprintf("%s_concurrency", w->name), CFG_INT, &p_concurrency,
                                xstrdup(conc), 1, 1024, 0, "handler threads", 0, 0};
    t[i++] = (struct cfg_param){xasprintf("%s_prefetch", w->name), CFG_INT, &p_prefetch,
                                "0", 0, 65535, 0, "prefetch (0: 2 x concurrency, at least 16)", 0, 0};
    t[i++] = (struct cfg_param){xasprintf("%s_retry_schedule", w->name), CFG_STR, &p_schedule,
                                w->default_schedule ? w->default_schedule : "10s,1m,5m,15m,1h",
                                0, 0, 0, "retry delays; the last repeats", 0, 0};
    t[i++] = (struct cfg_param){xasprintf("%s_max_age", w->name), CFG_TIME, &p_max_age,
                                w->default_max_age ? w->default_max_age : "2d", 1000,
                                45LL * 86400000, 0, "give up retrying after this age", 0, 0};
    t[i++] = (struct cfg_param){xasprintf("%s_max_attempts", w->name), CFG_INT, &p_max_attempts,
                                "0", 0, 1000000, 0, "give up after this many tries (0: by age only)", 0, 0};
    t[i++] = (struct cfg_param){xasprintf("%s_confirm_timeout", w->name), CFG_TIME,
                                &p_confirm_timeout, "30s", 100, 600000, 0,
                                "wait for broker confirms", 0, 0};
    return t;
}

static void parse_schedule(void)
{
    char *copy = xstrdup(p_schedule), *save = NULL;

    nschedule = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int64_t ms;
        while (*tok == ' ')
            tok++;
        if (time_parse_duration(tok, &ms) < 0 || ms < 1000 || nschedule == WORKER_SCHEDULE_MAX)
            msg_fatal("%s_retry_schedule: bad delay \"%s\"", W->name, tok);
        schedule[nschedule++] = ms;
    }
    xfree(copy);
    if (nschedule == 0)
        msg_fatal("%s_retry_schedule is empty", W->name);
}

/* ---- broker side ------------------------------------------------------ */

static void publisher_reconnect_or_die(void)
{
    if (mq_reconnect(publisher, (int)txconf.broker_reconnect_attempts) != TX_OK)
        msg_fatal("broker unreachable after %lld attempts; exiting without ack",
                  txconf.broker_reconnect_attempts);
}

/*
 * Publishing is pipelined: a finished job's outputs are published at once
 * and the job waits in the "awaiting" FIFO, its input still unacked, until
 * the broker has confirmed every publish up to the job's last one; then
 * its input is acked. The main thread never blocks on a confirm while
 * there is other work, so throughput is the prefetch window divided by
 * the confirm latency, not one batch per confirm round trip.
 */
static struct job *await_head, *await_tail;
static int nawait;

/* publish_outputs - publish a job's outputs; -1 when the publisher failed */
static int publish_outputs(struct job *j)
{
    for (int i = 0; i < j->nouts; i++) {
        struct job_out *o = &j->outs[i];
        struct mq_props props = {o->cc[0] ? o->cc : NULL, NULL,
                                 o->dead_reason[0] ? o->dead_reason : NULL, 0};
        if (mq_publish(publisher, o->exchange, o->key, o->body, o->len, &props) != TX_OK)
            return -1;
    }
    j->confirm_seq = mq_published_seq(publisher);
    j->published_ms = time_mono_ms();
    return 0;
}

/*
 * republish_awaiting - the publisher failed (connection lost, nack,
 * unroutable, confirm timeout): reconnect and publish every awaiting job's
 * outputs again, in order. Duplicates downstream are harmless (every stage
 * is idempotent); losing one is not. Gives up (fatal, no ack) when the
 * broker keeps refusing.
 */
static void republish_awaiting(void)
{
    for (int round = 0;; round++) {
        int failed = 0;

        if (round >= 3 && !mq_broken(publisher))
            msg_fatal("the broker keeps refusing publishes (unroutable or nacked)");
        msg_warn("publishing failed; reconnecting to publish %d jobs' outputs again", nawait);
        publisher_reconnect_or_die();
        for (struct job *j = await_head; j && !failed; j = j->next)
            if (publish_outputs(j) < 0)
                failed = 1;
        if (!failed && mq_wait_confirms(publisher, (int)p_confirm_timeout) == TX_OK)
            return;
    }
}

/* ack_job - the input is done: ack it and free the job */
static void ack_job(struct job *j)
{
    if (!mq_broken(consumer))
        mq_ack(consumer, j->dlv.tag);
    inflight--;
    job_free(j);
}

/* await_job - publish a settled job's outputs and queue it for its confirm */
static void await_job(struct job *j)
{
    j->next = NULL;
    if (await_tail)
        await_tail->next = j;
    else
        await_head = j;
    await_tail = j;
    nawait++;
    if (j->nouts == 0) {
        /* its events may travel in an earlier job's message (pack_across) */
        j->confirm_seq = mq_published_seq(publisher);
        j->published_ms = time_mono_ms();
        return;
    }
    if (publish_outputs(j) < 0)
        republish_awaiting();
}

/* process_confirms - read confirms without blocking; ack what is confirmed */
static void process_confirms(void)
{
    mq_poll(publisher);
    if (mq_take_failure(publisher) || mq_broken(publisher) ||
        (await_head && mq_confirmed_seq(publisher) < await_head->confirm_seq &&
         time_mono_ms() - await_head->published_ms > p_confirm_timeout)) {
        if (!mq_broken(publisher) && await_head &&
            mq_confirmed_seq(publisher) < await_head->confirm_seq)
            msg_warn("publishes not confirmed within %lld ms", (long long)p_confirm_timeout);
        republish_awaiting();
    }
    uint64_t confirmed = mq_confirmed_seq(publisher);
    while (await_head && await_head->confirm_seq <= confirmed) {
        struct job *j = await_head;
        await_head = j->next;
        if (await_head == NULL)
            await_tail = NULL;
        nawait--;
        ack_job(j);
    }
}

/* drop_awaiting - the consumer channel is gone: its acks are impossible */
static void drop_awaiting(void)
{
    while (await_head) {
        struct job *j = await_head;
        await_head = j->next;
        inflight--;
        job_free(j);
    }
    await_tail = NULL;
    nawait = 0;
}

static void dead_letter(struct job *job, const char *why)
{
    char *body = xmemdup(job->dlv.body ? job->dlv.body : "", job->dlv.len + 1);

    job_publish(job, MQ_EXCHANGE_DEAD, "", NULL, body, job->dlv.len);
    snprintf(job->outs[job->nouts - 1].dead_reason,
             sizeof(job->outs[job->nouts - 1].dead_reason), "%s: %s", W->name, why);
    msg_warn("%s: status=dead-letter (%s)", job_id_for_log(job), why);
    metrics_count("txmail_jobs_total", "outcome", "dead", 1);
}

/* requeue_delay - publish the input again through the delay tiers */
static void requeue_delay(struct job *job, int64_t delay_ms, int count_attempt)
{
    struct envelope e = job->env;
    int64_t tier_ms;
    const char *tier = worker_tier_for(delay_ms, &tier_ms);
    char *body;
    size_t len;

    e.data = job->env.data;
    if (count_attempt)
        e.attempt++;
    e.due_ms = time_now_ms() + delay_ms;
    if (envelope_encode(&e, &body, &len) < 0)
        msg_panic("cannot encode an envelope");
    job_publish(job, MQ_EXCHANGE_RETRY, tier, envelope_stage(&job->env), body, len);
}

/* settle - turn a handled job's code into outputs; log the outcome */
static void settle(struct job *job)
{
    enum tx_disposition d = tx_disposition(job->code);
    int64_t delay;

    metrics_latency(time_mono_ms() - job->started_ms);
    switch (d) {
    case TX_DISP_OK:
        metrics_count("txmail_jobs_total", "outcome", "ok", 1);
        msg_info("%s: stage=%s attempt=%d status=ok%s%s%s", job_id_for_log(job),
                 envelope_stage(&job->env), job->env.attempt,
                 job->reason[0] ? " (" : "", job->reason, job->reason[0] ? ")" : "");
        break;
    case TX_DISP_RETRY:
        delay = job->retry_after_ms > 0 ? job->retry_after_ms
                : schedule[job->env.attempt < nschedule ? job->env.attempt : nschedule - 1];
        if ((p_max_attempts && job->env.attempt + 1 >= p_max_attempts) ||
            (job->env.created_ms && time_now_ms() + delay > job->env.created_ms + p_max_age)) {
            metrics_count("txmail_jobs_total", "outcome", "expired", 1);
            msg_info("%s: stage=%s attempt=%d status=expired (%s)", job_id_for_log(job),
                     envelope_stage(&job->env), job->env.attempt,
                     job->reason[0] ? job->reason : tx_code_name(job->code));
            if (!worker_job_expire(W, job))
                dead_letter(job, "retries exhausted");
            break;
        }
        metrics_count("txmail_jobs_total", "outcome", "retry", 1);
        msg_info("%s: stage=%s attempt=%d delay=%llds status=deferred (%s)",
                 job_id_for_log(job), envelope_stage(&job->env), job->env.attempt,
                 (long long)(delay / 1000), job->reason[0] ? job->reason : tx_code_name(job->code));
        requeue_delay(job, delay, job->count_attempt);
        break;
    case TX_DISP_REJECT:
        metrics_count("txmail_jobs_total", "outcome", "reject", 1);
        msg_info("%s: stage=%s attempt=%d status=rejected (%s)", job_id_for_log(job),
                 envelope_stage(&job->env), job->env.attempt,
                 job->reason[0] ? job->reason : tx_code_name(job->code));
        if (job->code == TX_REJECT_MALFORMED) {
            drop_outputs(job);
            dead_letter(job, job->reason[0] ? job->reason : "malformed");
        }
        break;
    case TX_DISP_FATAL:
        msg_fatal("%s: stage=%s status=fatal (%s); exiting without ack",
                  job_id_for_log(job), envelope_stage(&job->env),
                  job->reason[0] ? job->reason : tx_code_name(job->code));
    }
}

/* run_handler - call handle() unless the job is already settled */
static void run_handler(struct job *job)
{
    job->started_ms = time_mono_ms();
    job->count_attempt = 1;
    job->code = worker_job_run(W, job);
}

static void *thread_main(void *arg)
{
    void *ctx = W->thread_init ? W->thread_init() : NULL;
    sigset_t set;

    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (todo_head == NULL && !(stopping == 2))
            pthread_cond_wait(&qcond, &qlock);
        if (todo_head == NULL) {
            pthread_mutex_unlock(&qlock);
            break;
        }
        struct job *job = todo_head;
        todo_head = job->next;
        if (todo_head == NULL)
            todo_tail = NULL;
        pthread_mutex_unlock(&qlock);
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
    if (W->thread_done)
        W->thread_done(ctx);
    return NULL;
}

/*
 * accept_delivery - decode; hand valid jobs to the pool; settle at once
 * what needs no handler (malformed, early arrival). Returns the job when
 * it is already settled (to be published/acked), else NULL.
 */
static struct job *accept_delivery(struct mq_delivery *d)
{
    struct job *job = xcalloc(1, sizeof(*job));
    char err[256];

    job->dlv = *d;
    job->started_ms = time_mono_ms();
    if (envelope_decode(&job->env, d->body, d->len, err, sizeof(err)) < 0) {
        dead_letter(job, err);
        return job;
    }
    if (envelope_stage(&job->env) == NULL) {
        dead_letter(job, "empty routing slip");
        return job;
    }
    int64_t now = time_now_ms();
    if (job->env.due_ms > now + 250) {
        requeue_delay(job, job->env.due_ms - now, 0);
        return job;
    }
    pthread_mutex_lock(&qlock);
    if (todo_tail)
        todo_tail->next = job;
    else
        todo_head = job;
    todo_tail = job;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
    return NULL;
}

static struct job *take_done(void)
{
    pthread_mutex_lock(&qlock);
    struct job *list = done_head;
    done_head = NULL;
    pthread_mutex_unlock(&qlock);
    return list;
}

/* finish - queue a list of settled jobs for publishing and their confirms */
static void finish(struct job *list)
{
    pack_across(list);
    while (list) {
        struct job *next = list->next;
        int sync = list->sync_confirm;
        await_job(list);
        if (sync) {
            if (mq_wait_confirms(publisher, (int)p_confirm_timeout) != TX_OK)
                republish_awaiting();
            process_confirms();
        }
        list = next;
    }
}

static void consumer_reconnect_or_die(void)
{
    struct job *list;

    /* deliveries in hand can no longer be acked: the broker returns them.
     * Let running handlers finish, drop their results, start over. */
    drop_awaiting();
    pthread_mutex_lock(&qlock);
    while (todo_head) {
        struct job *j = todo_head;
        todo_head = j->next;
        job_free(j);
        inflight--;
    }
    todo_tail = NULL;
    pthread_mutex_unlock(&qlock);
    while (inflight > 0) {
        time_sleep_ms(20);
        for (list = take_done(); list;) {
            struct job *next = list->next;
            job_free(list);
            inflight--;
            list = next;
        }
    }
    if (mq_reconnect(consumer, (int)txconf.broker_reconnect_attempts) != TX_OK)
        msg_fatal("broker unreachable after %lld attempts", txconf.broker_reconnect_attempts);
}

static void shutdown_consumer(void)
{
    struct mq_delivery d;

    mq_cancel(consumer);
    /* deliveries that arrived before cancel-ok: return them */
    while (!mq_broken(consumer) && mq_next(consumer, &d, 50) == 1) {
        mq_reject(consumer, d.tag, 1);
        mq_delivery_free(&d);
    }
    pthread_mutex_lock(&qlock);
    while (todo_head) {
        struct job *j = todo_head;
        todo_head = j->next;
        mq_reject(consumer, j->dlv.tag, 1);
        job_free(j);
        inflight--;
    }
    todo_tail = NULL;
    pthread_mutex_unlock(&qlock);
}

int worker_main(int argc, char **argv, struct worker *w)
{
    struct cfg_param *skel;
    int64_t last_flush = 0;
    char *url;
    struct sigaction sa;

    W = w;
    skel = skeleton_table(w);
    /* combine the program's table and the skeleton's */
    int nown = 0;
    if (w->params)
        while (w->params[nown].name)
            nown++;
    struct cfg_param *all = xcalloc((size_t)nown + 9, sizeof(*all));
    memcpy(all, w->params ? w->params : skel, sizeof(*all) * (size_t)nown);
    for (int i = 0; skel[i].name; i++)
        all[nown + i] = skel[i];
    txconf_init(argc, argv, w->name, all, NULL, NULL);
    parse_schedule();
    if (p_prefetch == 0)
        p_prefetch = p_concurrency * 2 < 16 ? 16 : p_concurrency * 2;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (w->init && w->init() != 0)
        msg_fatal("initialisation failed");
    url = txconf_broker_url();
    consumer = mq_open_retry(url, "consumer", (int)txconf.broker_reconnect_attempts);
    publisher = consumer ? mq_open_retry(url, "publisher", (int)txconf.broker_reconnect_attempts) : NULL;
    xwipestr(url);
    if (consumer == NULL || publisher == NULL)
        msg_fatal("cannot connect to the broker");
    if (mq_declare_topology(publisher) != TX_OK || mq_confirm_mode(publisher) != TX_OK ||
        mq_consume(consumer, p_queue, (int)p_prefetch) != TX_OK)
        msg_fatal("cannot set up the broker topology or consumer");

    if ((wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        msg_fatal("eventfd: %m");
    nthreads = (int)p_concurrency;
    threads = xcalloc((size_t)nthreads, sizeof(*threads));
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&threads[i], NULL, thread_main, NULL) != 0)
            msg_fatal("pthread_create: %m");
    msg_info("started: queue=%s concurrency=%d prefetch=%lld", p_queue, nthreads, p_prefetch);

    while (!stopping) {
        struct mq_delivery d;
        struct job *settled = NULL;
        int got = 0;

        /* take what the broker has buffered or sent, up to the prefetch window */
        while (inflight < p_prefetch) {
            int r = mq_next(consumer, &d, 0);
            if (r < 0) {
                consumer_reconnect_or_die();
                break;
            }
            if (r == 0)
                break;
            got++;
            inflight++;
            struct job *j = accept_delivery(&d);
            if (j) {
                j->next = settled;
                settled = j;
            }
        }
        struct job *done = take_done();
        int ndone = 0;
        for (struct job *j = done; j; j = j->next, ndone++)
            settle(j);
        finish(settled);
        finish(done);
        process_confirms();
        int64_t now = time_mono_ms();
        if (now - last_flush >= 5000) {
            metrics_gauge("txmail_inflight", inflight);
            metrics_gauge("txmail_awaiting_confirm", nawait);
            metrics_flush();
            last_flush = now;
        }
        if (got || ndone || settled || mq_has_buffered(consumer))
            continue;
        /* nothing to do: sleep until the broker or a handler has news */
        struct pollfd pfd[3] = {
            {mq_fd(consumer), inflight < p_prefetch ? POLLIN : 0, 0},
            {mq_fd(publisher), POLLIN, 0},
            {wake_fd, POLLIN, 0},
        };
        int tmo = nawait ? 50 : 500;
        if (poll(pfd, 3, tmo) > 0 && (pfd[2].revents & POLLIN)) {
            uint64_t n;
            if (read(wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
                msg_warn("eventfd read: %m");
        }
    }

    msg_info("stopping: finishing %d jobs in hand", inflight);
    shutdown_consumer();
    while (inflight > 0) {
        struct job *done = take_done();
        for (struct job *j = done; j; j = j->next)
            settle(j);
        finish(done);
        process_confirms();
        if (inflight > 0)
            time_sleep_ms(2);
    }
    pthread_mutex_lock(&qlock);
    stopping = 2;
    pthread_cond_broadcast(&qcond);
    pthread_mutex_unlock(&qlock);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    if (w->shutdown)
        w->shutdown();
    mq_close(consumer);
    mq_close(publisher);
    metrics_remove();
    msg_info("stopped");
    struct cfg_param *tables[] = {txconf_params, all, NULL};
    cfg_free(tables);
    for (int i = 0; skel[i].name; i++) {
        xfree((void *)skel[i].name);
        if (skel[i].ptr == &p_concurrency)
            xfree((void *)skel[i].def);
    }
    xfree(skel);
    xfree(all);
    xfree(threads);
    xfree(txconf.config_path);
    return 0;
}
