/*
 * render_round - one owner per continuation round of a large job.
 *
 * A large job is rendered in rounds; each round publishes its messages,
 * events and the continuation (the job with data.cursor) and is acked once
 * the broker has confirmed them. A worker killed between that publish and
 * the ack leaves two copies of the next round behind: the continuation it
 * published, and the redelivered input, which a second worker renders
 * again and continues once more. Without more, both chains would run to
 * the end and every later address would be rendered (and offered to
 * deliver) twice.
 *
 * So every continuation carries its round number and a fresh owner id
 * (render_round_continue), and a worker claims the round in the job row before it
 * renders it (schema/003_render_rounds.sql): the first copy to arrive owns
 * the round; a redelivery of that same copy (its worker died mid-round)
 * may take it up again; any other copy of the round is dropped. Round 0,
 * the job as accepted, needs no claim: only its continuations can double.
 *
 * A round ends when it has queued render_batch_bytes (render_round_full);
 * render_round_continue publishes the next one.
 */
#include "workers/render/render.h"
#include "global/ids.h"
#include "global/runtime/mq.h"
#include "util/msg.h"

#include <string.h>

int render_round_claim(struct db *db, const char *job_id, long long round, const char *owner)
{
    struct db_res *res = NULL;
    int mine;

    if (db_exec(db,
                "UPDATE job SET render_round = ?, render_owner = ? WHERE job_id = ? AND "
                "(render_round < ? OR (render_round = ? AND render_owner = ?))",
                "issiis", round, owner, job_id, round, round, owner) != TX_OK)
        return -1;
    if (db_affected(db) > 0)
        return 1;
    /* nothing changed: the round is someone else's, or already ours */
    if (db_query(db, &res, "SELECT render_round, render_owner FROM job WHERE job_id = ?", "s",
                 job_id) != TX_OK)
        return -1;
    const char *o = db_res_rows(res) ? db_res_get(res, 0, 1) : NULL;
    mine = o && db_res_int(res, 0, 0, -1) == round && strcmp(o, owner) == 0;
    db_res_free(res);
    return mine;
}

int render_round_full(const struct render_run *run)
{
    return run->copies > 0 && (long long)run->out_bytes >= render_p.batch_bytes;
}

void render_round_continue(struct render_run *run, long long block, long long copy)
{
    struct envelope e = run->job->env;
    json_t *cursor = json_object();
    char *body;
    size_t len;

    json_t *prev = json_object_get(run->job->env.data, "cursor");
    struct uuid id;
    char owner[UUID_STR_LEN + 1];

    ids_uuid_v4(&id);
    ids_uuid_format(owner, &id);
    json_object_set_new(cursor, "block", json_integer(block));
    json_object_set_new(cursor, "copy", json_integer(copy));
    /* the next round and this copy's claim on it (render_round.c) */
    json_object_set_new(cursor, "round",
                        json_integer(json_integer_value(json_object_get(prev, "round")) + 1));
    json_object_set_new(cursor, "owner", json_string(owner));
    json_object_set_new(run->job->env.data, "cursor", cursor);
    e.attempt = 0;
    e.due_ms = 0;
    if (envelope_encode(&e, &body, &len) < 0)
        msg_panic("cannot encode the job's next round");
    worker_job_publish(run->job, MQ_EXCHANGE_WORK, envelope_stage(&run->job->env), NULL, body, len);
    run->job->sync_confirm = 1; /* never two rounds of one job unacked at once */
    worker_job_reason(run->job,
                      "%d copies rendered; the rest in the next round (block %lld, copy %lld)",
                      run->copies, block, copy);
}
