/*
 * worker_job_test - the rules around handle(): mark and rollback of a
 * job's outputs (exact, also for packed events), the first-stage rule's
 * dispatch and the expiry hook's.
 */
#include "tests/harness/ttest.h"
#include "global/txconf.h"
#include "global/runtime/worker.h"
#include "util/mymalloc.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* new_job - a job as the skeleton builds one, of type with data (a JSON text) */
static struct job *new_job(const char *type, const char *data)
{
    struct job *job = xcalloc(1, sizeof(*job));

    envelope_init(&job->env, type);
    snprintf(job->env.job_id, sizeof(job->env.job_id), "%s", "job-1");
    job->env.account_id = 1;
    json_decref(job->env.data);
    job->env.data = json_loads(data, 0, NULL);
    return job;
}

static void free_job(struct job *job)
{
    worker_job_rollback(job, 0);
    xfree(job->outs);
    envelope_free(&job->env);
    xfree(job);
}

static void raw(struct job *job, const char *key, const char *body)
{
    worker_job_publish(job, MQ_EXCHANGE_WORK, key, NULL, xstrdup(body), strlen(body));
}

static void event(struct job *job, const char *rid, const char *subtype)
{
    struct tx_event ev;

    event_init(&ev);
    ev.rid = rid;
    ev.job_id = job->env.job_id;
    ev.account_id = job->env.account_id;
    ev.phase = "PROCESS", ev.state = "INITIAL", ev.type = "STARTED", ev.subtype = subtype;
    worker_job_event(job, &ev);
}

TT_TEST(rollback_forgets_what_came_after_the_mark)
{
    struct job *job = new_job("job", "{}");

    raw(job, "a", "A");
    size_t mark = worker_job_mark(job);
    TT_EQ_INT(mark, 1);
    raw(job, "b", "B");
    raw(job, "c", "C");
    TT_EQ_INT(job->nouts, 3);
    worker_job_rollback(job, mark);
    TT_EQ_INT(job->nouts, 1);
    TT_EQ_STR(job->outs[0].key, "a");
    TT_EQ_MEM(job->outs[0].body, job->outs[0].len, "A", 1);
    /* the job goes on queuing after a rollback */
    raw(job, "d", "D");
    TT_EQ_INT(job->nouts, 2);
    TT_EQ_STR(job->outs[1].key, "d");
    free_job(job);
}

TT_TEST(rollback_to_the_current_mark_changes_nothing)
{
    struct job *job = new_job("job", "{}");

    raw(job, "a", "A");
    worker_job_rollback(job, worker_job_mark(job));
    TT_EQ_INT(job->nouts, 1);
    worker_job_rollback(job, 0);
    TT_EQ_INT(job->nouts, 0);
    free_job(job);
}

TT_TEST(events_of_one_key_pack_without_a_mark)
{
    struct job *job = new_job("job", "{}");

    event(job, "r1", "PROCESSING_STARTED");
    event(job, "r2", "PROCESSING_STARTED");
    TT_EQ_INT(job->nouts, 1);
    TT_EQ_INT(job->outs[0].parts, 2);
    free_job(job);
}

TT_TEST(events_after_a_mark_never_join_a_message_before_it)
{
    struct job *job = new_job("job", "{}");

    event(job, "r1", "PROCESSING_STARTED");
    char *before = xmemdup(job->outs[0].body, job->outs[0].len + 1);
    size_t mark = worker_job_mark(job);
    event(job, "r2", "PROCESSING_STARTED");
    event(job, "r3", "PROCESSING_STARTED");
    TT_EQ_INT(job->nouts, 2); /* r2 and r3 packed together, after the mark */
    TT_EQ_INT(job->outs[0].parts, 1);
    TT_EQ_INT(job->outs[1].parts, 2);
    worker_job_rollback(job, mark);
    TT_EQ_INT(job->nouts, 1);
    TT_EQ_MEM(job->outs[0].body, job->outs[0].len, before, strlen(before));
    TT_ASSERT(strstr(job->outs[0].body, "r2") == NULL);
    xfree(before);
    free_job(job);
}

TT_TEST(rollback_to_an_older_mark_keeps_the_older_seal)
{
    struct job *job = new_job("job", "{}");

    event(job, "r1", "PROCESSING_STARTED");
    size_t m1 = worker_job_mark(job);
    event(job, "r2", "PROCESSING_STARTED");
    size_t m2 = worker_job_mark(job);
    TT_EQ_INT(m2, 2);
    event(job, "r3", "PROCESSING_STARTED");
    worker_job_rollback(job, m1);
    TT_EQ_INT(job->nouts, 1);
    event(job, "r4", "PROCESSING_STARTED");
    TT_EQ_INT(job->nouts, 2); /* r4 did not join r1's message */
    worker_job_rollback(job, m1);
    TT_EQ_INT(job->nouts, 1);
    TT_EQ_INT(job->outs[0].parts, 1);
    free_job(job);
}

TT_TEST(rollback_beyond_the_outputs_panics)
{
    pid_t pid = fork();
    int status = 0;

    if (pid == 0) {
        struct job *job = new_job("job", "{}");
        raw(job, "a", "A");
        raw(job, "b", "B");
        size_t mark = worker_job_mark(job);
        worker_job_rollback(job, 0);
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(2);
        worker_job_rollback(job, mark);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    TT_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/* ---- dispatch ----------------------------------------------------------- */

static int handled, expired_calls;

static enum tx_code handle_ok(struct job *job)
{
    (void)job;
    handled++;
    return TX_OK;
}

static void expired_hook(struct job *job)
{
    (void)job;
    expired_calls++;
}

/* no_database - db_thread() fails at once (a socket that does not exist) */
static void no_database(void)
{
    txconf.db_socket = "/nonexistent/txmail-worker-job-test.sock";
}

TT_TEST(a_stage_that_is_never_first_gets_every_job)
{
    struct worker w = {.name = "t", .handle = handle_ok};
    struct job *job = new_job("job", "{\"entry\":\"rest\"}");

    no_database();
    TT_EQ_INT(worker_job_run(&w, job), TX_OK);
    TT_EQ_INT(handled, 1);
    TT_EQ_INT(job->nouts, 0);
    free_job(job);
}

TT_TEST(a_first_stage_passes_started_jobs_and_other_envelopes)
{
    int64_t grace = 60000;
    struct worker w = {.name = "t", .handle = handle_ok, .first_stage_grace = &grace};
    struct job *started = new_job("job", "{\"entry\":\"rest\",\"started\":true}");
    struct job *message = new_job("message", "{\"rcpt\":\"a@example.com\"}");

    no_database();
    TT_EQ_INT(worker_job_run(&w, started), TX_OK);
    TT_EQ_INT(worker_job_run(&w, message), TX_OK);
    TT_EQ_INT(handled, 2);
    free_job(started);
    free_job(message);
}

TT_TEST(a_first_stage_without_database_retries_before_handle)
{
    int64_t grace = 60000;
    struct worker w = {.name = "t", .handle = handle_ok, .first_stage_grace = &grace};
    struct job *job = new_job("job", "{\"entry\":\"rest\"}");

    no_database();
    TT_EQ_INT(worker_job_run(&w, job), TX_RETRY_DB);
    TT_EQ_INT(handled, 0);
    TT_EQ_STR(job->reason, "the database is not reachable");
    TT_ASSERT(worker_job_db(job) == NULL);
    free_job(job);
}

TT_TEST(expiry_goes_to_the_hook_or_to_the_dead_letters)
{
    struct worker plain = {.name = "t", .handle = handle_ok};
    struct worker hooked = {.name = "t", .handle = handle_ok, .expired = expired_hook};
    struct job *job = new_job("job", "{\"entry\":\"rest\"}");

    TT_EQ_INT(worker_job_expire(&plain, job), 0);
    TT_EQ_INT(worker_job_expire(&hooked, job), 1);
    TT_EQ_INT(expired_calls, 1);
    free_job(job);
}

TT_TEST(a_first_stage_job_that_never_started_is_the_skeletons_at_expiry)
{
    int64_t grace = 60000;
    struct worker w = {
        .name = "t", .handle = handle_ok, .expired = expired_hook, .first_stage_grace = &grace};
    struct job *fresh = new_job("job", "{\"entry\":\"rest\"}");
    struct job *started = new_job("job", "{\"entry\":\"rest\",\"started\":true}");

    no_database();
    TT_EQ_INT(worker_job_expire(&w, fresh), 1); /* logged: no tombstone, no database */
    TT_EQ_INT(expired_calls, 0);
    TT_EQ_INT(fresh->nouts, 0);
    TT_EQ_INT(worker_job_expire(&w, started), 1);
    TT_EQ_INT(expired_calls, 1);
    free_job(fresh);
    free_job(started);
}

TT_MAIN(TT_CASE(rollback_forgets_what_came_after_the_mark),
        TT_CASE(rollback_to_the_current_mark_changes_nothing),
        TT_CASE(events_of_one_key_pack_without_a_mark),
        TT_CASE(events_after_a_mark_never_join_a_message_before_it),
        TT_CASE(rollback_to_an_older_mark_keeps_the_older_seal),
        TT_CASE(rollback_beyond_the_outputs_panics),
        TT_CASE(a_stage_that_is_never_first_gets_every_job),
        TT_CASE(a_first_stage_passes_started_jobs_and_other_envelopes),
        TT_CASE(a_first_stage_without_database_retries_before_handle),
        TT_CASE(expiry_goes_to_the_hook_or_to_the_dead_letters),
        TT_CASE(a_first_stage_job_that_never_started_is_the_skeletons_at_expiry))
