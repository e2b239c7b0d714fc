/*
 * render_trace - Trace & Recover in txmail-render (contract §16.2): every
 * copy built for a job with options.traceRecover.active is kept in
 * trace_store for 45 days from the job's acceptance, so the REST API can
 * show a preview of it and re-send it (producers/rest/rest_recover.c).
 *
 * render_emit_message() hands each copy here (render_trace_keep) before
 * it is queued, and its TRACE_RECOVER_STORE event after its
 * PROCESSING_FINISHED (render_trace_event); handle() writes the round's
 * copies in one transaction (render_trace_flush) before the skeleton
 * publishes anything of the round: a copy is never sent without its kept
 * copy. A database failure is a RETRY of the whole round (its outputs are
 * rolled back). The rows are keyed (rid, rday), written with ON DUPLICATE
 * KEY UPDATE: a redelivered round keeps one row per address, holding the
 * copy that round sent.
 *
 * The row's envelope is the copy's message data (docs/ENVELOPES.md
 * "message": entry, mailFrom, rcpt, email, kind, from, mimeFrom,
 * messageId, options, settings, references) plus "sender", the bare
 * sender address before VERP: what a recovery needs to build the new
 * job. Envelope-from rewriting is not applied to these jobs (§16.2, run_setup).
 */
#include "workers/render/render.h"
#include "global/event.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#define TRACE_KEEP_MS (45LL * 86400000) /* contract §10.6 */

struct trace_row {
    char *rid;
    char *envelope; /* JSON text */
    char *raw;
    size_t len;
};

struct render_trace {
    struct trace_row *rows;
    size_t n, cap;
    char day[16];   /* the job's rday */
    char until[32]; /* stored_until, SQL form */
    char until_iso[32];
};

int render_trace_active(const struct render_run *run)
{
    json_t *tr = json_object_get(json_object_get(run->data, "options"), "traceRecover");

    return jsonget_bool(tr, "active");
}

void render_trace_begin(struct render_run *run)
{
    struct render_trace *t;
    int64_t until = run->job->env.created_ms + TRACE_KEEP_MS;

    if (!render_trace_active(run))
        return;
    t = xcalloc(1, sizeof(*t));
    timeutil_day(t->day, sizeof(t->day), run->job->env.created_ms);
    timeutil_sql(t->until, sizeof(t->until), until);
    timeutil_iso8601(t->until_iso, sizeof(t->until_iso), until);
    run->trace = t;
}

void render_trace_keep(struct render_run *run, const char *rid, json_t *data, const char *raw,
                       size_t len)
{
    struct render_trace *t = run->trace;
    struct trace_row *row;
    json_t *env;

    if (t == NULL)
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->rows = xrealloc(t->rows, t->cap * sizeof(*t->rows));
    }
    row = &t->rows[t->n++];
    env = json_deep_copy(data);
    json_object_set_new(env, "rid", json_string(rid));
    json_object_set_new(env, "sender", json_string(run->from_addr));
    row->rid = xstrdup(rid);
    row->envelope = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    if (row->envelope == NULL)
        msg_panic("%s: cannot encode the trace envelope", rid);
    row->raw = xmalloc(len + 1);
    memcpy(row->raw, raw, len);
    row->len = len;
}

void render_trace_event(struct render_run *run, struct tx_event *ev)
{
    struct render_trace *t = run->trace;
    char why[64];

    if (t == NULL)
        return;
    snprintf(why, sizeof(why), "stored until %s", t->until_iso);
    ev->phase = "PROCESS", ev->state = "INTERMEDIATE", ev->type = "TRACE_RECOVER_STORE";
    ev->subtype = "OK";
    ev->description = why;
    ev->message_id = NULL;
    ev->size = -1;
    worker_job_event(run->job, ev);
}

/* store_tx - every kept copy of the round, in one transaction (db_tx_run) */
static enum tx_code store_tx(struct db *db, void *arg)
{
    const struct render_run *run = arg;
    const struct render_trace *t = run->trace;
    enum tx_code rc = TX_OK;

    for (size_t i = 0; i < t->n && rc == TX_OK; i++)
        rc = db_exec(db,
                     "INSERT INTO trace_store (rid, rday, account_id, stored_until, envelope, raw) "
                     "VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE stored_until = "
                     "VALUES(stored_until), envelope = VALUES(envelope), raw = VALUES(raw)",
                     "ssissb", t->rows[i].rid, t->day, run->job->env.account_id, t->until,
                     t->rows[i].envelope, t->rows[i].raw, t->rows[i].len);
    return rc;
}

enum tx_code render_trace_flush(struct render_run *run)
{
    struct render_trace *t = run->trace;
    enum tx_code rc;

    if (t == NULL || t->n == 0)
        return TX_OK;
    rc = db_tx_run(run->db, 3, store_tx, run);
    if (rc != TX_OK) {
        worker_job_reason(run->job, "cannot keep the Trace & Recover copies: %s",
                          db_error(run->db));
        return txcode_disposition(rc) == TX_DISP_RETRY ? rc : TX_RETRY_DB;
    }
    msg_info("%s: %zu copies kept for Trace & Recover until %s", worker_job_log_id(run->job), t->n,
             t->until_iso);
    return TX_OK;
}

void render_trace_end(struct render_run *run)
{
    struct render_trace *t = run->trace;

    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        xfree(t->rows[i].rid);
        free(t->rows[i].envelope);
        xfree(t->rows[i].raw);
    }
    xfree(t->rows);
    xfree(t);
    run->trace = NULL;
}
