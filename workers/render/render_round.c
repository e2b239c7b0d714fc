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
 * (emit_continue), and a worker claims the round in the job row before it
 * renders it (schema/003_render_rounds.sql): the first copy to arrive owns
 * the round; a redelivery of that same copy (its worker died mid-round)
 * may take it up again; any other copy of the round is dropped. Round 0,
 * the job as accepted, needs no claim: only its continuations can double.
 */
#include "workers/render/render.h"

#include <string.h>

int round_claim(struct db *db, const char *job_id, long long round, const char *owner)
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
