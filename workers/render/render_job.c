/*
 * render_job - REST jobs: one message per recipient block (contract §8),
 * one copy per address that was not dropped at intake. This file walks the
 * blocks in order (resuming at the cursor of a continued round) and fails
 * what cannot be rendered; the phases are render_prep.c (per job),
 * render_block.c and render_fields.c (per block) and render_copy.c (per
 * copy), over the state of render_job.h.
 *
 * Per job: the text parts and the attachment entities are prepared once
 * (attachments are re-cut into base64 lines in one pass, never decoded).
 * Per block: the header fields shared by its copies, the body and its
 * DKIM body hash. Per copy: the Message-ID (and, with tracking, the
 * HTML), the signature, the envelope. Copies of a block differ only in
 * their header, so a block's body is built and hashed once - by the
 * first copy that sends it: with tracking every copy has a body of its
 * own, and none may. (The job's HTML entity and the block's body are
 * left for that copy only when they cannot fail; otherwise they are
 * built up front, so a block fails where it always did.)
 *
 * A block that cannot be rendered (template error, size over the limit,
 * a header that cannot be written) gets PROCESSING_FAILED for its
 * addresses; the other blocks are not affected.
 */
#include "workers/render/render_job.h"

#include <stdio.h>
#include <string.h>

/* render_job_too_large - the contract's wording for a message over the limit (§4.12, §9.5) */
void render_job_too_large(char *err, size_t errsz, const struct rjob *rj)
{
    snprintf(err, errsz, "%s exceeds %lld bytes", rj->any_template ? "Rendered message" : "message",
             rj->limit);
}

/* render_job_size_error - the contract's wording for a part that did not fit */
void render_job_size_error(char *err, size_t errsz, const struct rjob *rj)
{
    if (strcmp(err, "message too large") == 0)
        render_job_too_large(err, errsz, rj);
}

/* fail_block - PROCESSING_FAILED for the block's undropped addresses from copy first on */
static void fail_block(struct render_run *run, struct rblock *rb, long long first, const char *why)
{
    long long k = 0;

    for (size_t i = 0; i < rb->nr; i++) {
        if (rb->r[i].dropped)
            continue;
        if (k++ >= first)
            render_emit_failed(run, &rb->r[i], why);
    }
}

/* render_job_rest - a REST job: every block, every copy (see the top of the file) */
enum tx_code render_job_rest(struct render_run *run)
{
    struct rjob rj;
    json_t *blocks = json_object_get(run->data, "blocks"), *b;
    char err[300];
    size_t bi;
    enum tx_code rc = TX_OK;

    memset(&rj, 0, sizeof(rj));
    rj.run = run;
    rj.data = run->data;
    if (!json_is_array(blocks)) {
        worker_job_reason(run->job, "malformed job: no blocks");
        return TX_REJECT_MALFORMED;
    }
    render_prep_job(&rj);
    json_array_foreach (blocks, bi, b) {
        struct rblock rb;
        long long first = (long long)bi == run->cur_block ? run->cur_copy : 0;

        if ((long long)bi < run->cur_block)
            continue;
        memset(&rb, 0, sizeof(rb));
        if (render_block_parse(b, bi, &rb) < 0) {
            /* one address element is broken: the block cannot be addressed */
            fail_block(run, &rb, first, "malformed job data: a recipient of the block is unusable");
            render_block_free(&rb);
            continue;
        }
        size_t live = 0;
        for (size_t i = 0; i < rb.nr; i++)
            live += !rb.r[i].dropped;
        if (live == 0 || first >= (long long)live) {
            render_block_free(&rb);
            continue;
        }
        if (rj.job_error[0]) {
            fail_block(run, &rb, first, rj.job_error);
            render_block_free(&rb);
            continue;
        }
        if (render_block_build(&rj, &rb, err, sizeof(err)) < 0) {
            render_job_size_error(err, sizeof(err), &rj);
            fail_block(run, &rb, first, err);
            render_block_free(&rb);
            continue;
        }
        long long k = 0;
        for (size_t i = 0; i < rb.nr; i++) {
            if (rb.r[i].dropped)
                continue;
            if (k < first) {
                k++;
                continue;
            }
            if (render_round_full(run)) {
                render_round_continue(run, (long long)bi, k);
                render_block_free(&rb);
                goto done;
            }
            if (render_copy_one(&rj, &rb, &rb.r[i], err, sizeof(err)) < 0) {
                render_job_size_error(err, sizeof(err), &rj);
                fail_block(run, &rb, k, err);
                break;
            }
            k++;
        }
        render_block_free(&rb);
    }
done:
    render_prep_free(&rj);
    if (run->copies == 0 && run->failed > 0) {
        worker_job_reason(run->job, "no message could be rendered (%d addresses failed)",
                          run->failed);
        rc = TX_REJECT_INPUT;
    } else if (run->failed > 0)
        worker_job_reason(run->job, "%d copies rendered, %d addresses failed", run->copies,
                          run->failed);
    return rc;
}
