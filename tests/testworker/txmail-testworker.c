/*
 * NAME
 *   txmail-testworker - a worker for the skeleton's integration tests
 * DESCRIPTION
 *   Consumes testworker_queue (default "testwork"). The job's data says
 *   what to do: {"action": "ok" | "retry" | "reject" | "fatal",
 *   "sleep_ms": N, "tag": "..."}, or "crash" (a poison message: the
 *   handler aborts, as a handler with a bug would). Before and after
 *   handling it appends
 *   "start|done <tag> <attempt> <pid>" to testworker_record_file. "ok"
 *   forwards the job to the next stage of its slip; "retry" asks for a
 *   retry; "reject" publishes a TEST/REJECTED event; when the retry
 *   budget is used up the expired hook publishes TEST/EXPIRED.
 * PARAMETERS
 *   testworker_record_file (/tmp/testworker.log)
 */
#include "global/event.h"
#include "global/runtime/worker.h"
#include "util/msg.h"

#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct testworker_conf {
    char *record_file;
};
static struct testworker_conf testworker_conf;

static struct cfg_param testworker_params[] = {
    {"testworker_record_file", CFG_STR, &testworker_conf.record_file, "/tmp/testworker.log", 0, 0,
     0, "record file", 0, 0},
    {0},
};

static void record(struct job *job, const char *what)
{
    char line[512];
    const char *tag = json_string_value(json_object_get(job->env.data, "tag"));
    int fd = open(testworker_conf.record_file, O_WRONLY | O_APPEND | O_CREAT, 0644);
    int n = snprintf(line, sizeof(line), "%s %s %d %d\n", what, tag ? tag : "-", job->env.attempt,
                     (int)getpid());

    if (fd >= 0) {
        if (write(fd, line, (size_t)n) < 0)
            msg_warn("cannot write %s", testworker_conf.record_file);
        close(fd);
    }
}

static void test_event(struct job *job, const char *type)
{
    struct tx_event ev;

    event_init(&ev);
    ev.rid = job->env.job_id;
    ev.job_id = job->env.job_id;
    ev.account_id = job->env.account_id;
    ev.phase = "TEST", ev.state = "FINISHED", ev.type = type, ev.subtype = "TEST";
    ev.description = json_string_value(json_object_get(job->env.data, "tag"));
    worker_job_event(job, &ev);
}

static enum tx_code handle(struct job *job)
{
    const char *action = json_string_value(json_object_get(job->env.data, "action"));
    json_int_t sleep_ms = json_integer_value(json_object_get(job->env.data, "sleep_ms"));

    record(job, "start");
    if (sleep_ms > 0)
        usleep((useconds_t)sleep_ms * 1000);
    if (action && strcmp(action, "crash") == 0) {
        record(job, "crash");
        abort();
    }
    record(job, "done");
    if (action == NULL || strcmp(action, "ok") == 0) {
        worker_job_forward_input(job);
        return TX_OK;
    }
    if (strcmp(action, "retry") == 0) {
        worker_job_reason(job, "test asked for a retry");
        return TX_RETRY_PEER;
    }
    if (strcmp(action, "reject") == 0) {
        test_event(job, "REJECTED");
        worker_job_reason(job, "test asked for a reject");
        return TX_REJECT_INPUT;
    }
    if (strcmp(action, "fatal") == 0) {
        worker_job_reason(job, "test asked for a fatal error");
        return TX_FATAL_INTERNAL;
    }
    worker_job_reason(job, "unknown action");
    return TX_REJECT_INPUT;
}

static void expired(struct job *job)
{
    test_event(job, "EXPIRED");
}

static struct worker w = {
    .name = "testworker",
    .queue = "testwork",
    .params = testworker_params,
    .default_concurrency = 1,
    .default_schedule = "1s",
    .default_max_age = "1h",
    .handle = handle,
    .expired = expired,
};

int main(int argc, char **argv)
{
    return worker_main(argc, argv, &w);
}
