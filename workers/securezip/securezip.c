/*
 * NAME
 *   txmail-securezip - Secure Document Handling: the flagged attachments of
 *   a job into one password-protected AES-256 ZIP per recipient block
 * SYNOPSIS
 *   txmail-securezip [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Consumes the `type:"job"` envelopes of REST jobs whose slip names
 *   securezip (contract §16.3; intake puts it after scan when Secure
 *   Document Handling is active and an attachment has secureDocument
 *   true). It is never the first stage: scan always runs before it, so
 *   every flagged attachment was scanned before it is encrypted.
 *
 *   For each recipient block (data.blocks[i]) it draws a password from
 *   OpenSSL's CSPRNG (RAND_bytes, rejection sampling, no modulo bias):
 *   length by options.secureDocument.passwordType, medium 8, high 10,
 *   very_high 15; characters A-Z a-z 0-9 without 0 O o 1 l I; at least
 *   one upper-case letter, one lower-case letter and one digit. It packs
 *   every flagged attachment into one ZIP with libzip, each entry
 *   AES-256 (WinZip AE-2), named after its attachment (path separators
 *   and control characters replaced, duplicates numbered), and writes
 *   data.blocks[i].secureZip = {"name": "<filename>.zip", "data": "<base64>",
 *   "password": "<crypto_secret_encrypt of the password, v1:...>"}. The
 *   flagged attachments leave data.attachments; data.secureDocument =
 *   {"packed": [names]} says which went into the ZIP. Then the job goes
 *   on to the next stage of its slip (render), which attaches the ZIP to
 *   every copy of the block; txmail-deliver sends the password mail after
 *   each DELIVERED (docs/ENVELOPES.md "Secure Document Handling").
 *
 *   A block whose ZIP cannot be built (libzip error, the documents or the
 *   ZIP over securezip_zip_size_limit, an attachment whose content cannot
 *   be decoded) is taken out of data.blocks: each of its addresses gets
 *   PROCESS/FINISHED/DROPPED/SECURE_DOCUMENT_FAILED; a flagged attachment
 *   is never sent unencrypted; the other blocks go on. A job without
 *   flagged attachments goes on unchanged.
 *
 *   A redelivered job gets new passwords and new ZIPs; its messages keep
 *   their recipient ids, so txmail-deliver's delivery record sends each
 *   address at most one of the copies (see docs/ENVELOPES.md for the
 *   password mail of such a copy). The password is never logged.
 *
 *   One log line per job:
 *     <job>: blocks=2, packed=1, failed=0, zip=test.zip, entries=1, status=packed
 * CONSUMES
 *   securezip_queue (securezip, bound to txmail.work): type "job" envelopes.
 * PUBLISHES
 *   txmail.work, the slip's next stage: the job with secureZip per block.
 *   txmail.events: PROCESS/FINISHED/DROPPED/SECURE_DOCUMENT_FAILED.
 * WRITES
 *   nothing.
 * PARAMETERS (and the skeleton's securezip_queue (securezip),
 *   securezip_concurrency (2), securezip_prefetch, securezip_retry_schedule
 *   (5s,30s,1m,5m), securezip_max_age (2d), securezip_max_attempts,
 *   securezip_confirm_timeout; shared: master_key_file, broker_*)
 *   securezip_zip_size_limit (15m)   largest ZIP (and sum of the documents)
 *                                    of one block
 * METRICS (metrics_dir, besides the skeleton's)
 *   txmail_securezip_blocks_total{outcome=packed|failed}
 *   txmail_securezip_zip_bytes_total
 */
#include "workers/securezip/securezip.h"
#include "global/crypto.h"
#include "global/event.h"
#include "global/metrics.h"
#include "global/runtime/worker.h"
#include "global/txconf.h"
#include "util/codec.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct securezip_conf securezip_conf;

static struct cfg_param securezip_params[] = {
    {"securezip_zip_size_limit", CFG_SIZE, &securezip_conf.zip_limit, "15m", 1024, 1LL << 30, 0,
     "largest ZIP (and sum of the documents) of one block", 0, 0},
    {0},
};

/* what one job packs: the flagged attachments, decoded */
struct pack {
    struct securezip_entry *e;
    struct buf *dec;
    size_t n;
    char zip_name[220];
    const char *pw_type;
    char error[300]; /* every block fails with this */
};

static int init(void)
{
    if (crypto_set_master_key(txconf.master_key) < 0)
        msg_fatal("master_key_file: expected 64 hex digits (the passwords are stored encrypted)");
    return 0;
}

/* zip_name - "<filename>.zip", ".zip" not doubled, default "documents" */
static void zip_name(char *out, size_t outsz, const char *filename)
{
    char clean[256];
    struct securezip_entry one;
    const char *names[1] = {filename && *filename ? filename : "documents"};

    securezip_pack_names(&one, 1, names);
    snprintf(clean, sizeof(clean), "%s", one.name);
    size_t n = strlen(clean);
    if (n > 4 && strcasecmp(clean + n - 4, ".zip") == 0)
        clean[n - 4] = 0;
    snprintf(out, outsz, "%s.zip", clean);
}

/* collect - decode every flagged attachment; p->error when one cannot be */
static void collect(struct job *job, json_t *atts, struct pack *p, json_t *packed)
{
    size_t n = json_array_size(atts), i, k = 0;
    json_t *a;
    const char **names = xcalloc(n + 1, sizeof(*names));

    p->e = xcalloc(n + 1, sizeof(*p->e));
    p->dec = xcalloc(n + 1, sizeof(*p->dec));
    json_array_foreach (atts, i, a) {
        if (!jsonget_bool(a, "secureDocument"))
            continue;
        const char *d = jsonget_str(a, "data");
        size_t len = 0;
        if (d == NULL)
            d = jsonget_str(a, "content");
        if (d)
            len = strlen(d);
        else
            d = envelope_raw_segment(&job->env, json_object_get(a, "raw"), &len);
        buf_init(&p->dec[k], securezip_conf.zip_limit);
        if (d == NULL || codec_b64_decode(&p->dec[k], d, len, 1) < 0) {
            if (!p->error[0])
                snprintf(p->error, sizeof(p->error),
                         d ? "attachment %zu cannot be decoded or is over the size limit"
                           : "attachment %zu has no content",
                         i);
        }
        names[k] = jsonget_str(a, "name");
        p->e[k].data = (const unsigned char *)p->dec[k].data;
        p->e[k].len = p->dec[k].len;
        k++;
    }
    p->n = k;
    securezip_pack_names(p->e, p->n, names);
    for (i = 0; i < p->n; i++)
        json_array_append_new(packed, json_string(p->e[i].name));
    xfree(names);
}

static void pack_free(struct pack *p)
{
    for (size_t i = 0; i < p->n; i++)
        buf_free(&p->dec[i]);
    xfree(p->dec);
    xfree(p->e);
}

/* fail_block - SECURE_DOCUMENT_FAILED for every address of the block not dropped at intake */
static void fail_block(struct job *job, json_t *b, const char *why)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    json_t *mail = json_object_get(job->env.data, "mail");
    size_t i;
    json_t *a;

    for (int k = 0; k < 3; k++)
        json_array_foreach (json_object_get(b, kinds[k]), i, a) {
            if (json_is_object(json_object_get(a, "drop")) || !jsonget_str(a, "rid"))
                continue;
            struct tx_event ev;
            event_init(&ev);
            ev.rid = jsonget_str(a, "rid");
            ev.job_id = job->env.job_id;
            ev.account_id = job->env.account_id;
            ev.received_ms = job->env.created_ms;
            ev.email = jsonget_str(a, "email");
            ev.from = jsonget_str(json_object_get(mail, "from"), "email");
            ev.mime_from = jsonget_str(json_object_get(mail, "mimeFrom"), "email");
            ev.reference = jsonget_str(b, "reference");
            ev.phase = "PROCESS", ev.state = "FINISHED", ev.type = "DROPPED";
            ev.subtype = "SECURE_DOCUMENT_FAILED";
            ev.description = why;
            worker_job_event(job, &ev);
        }
}

/* pack_block - the block's password and ZIP into b.secureZip; -1 with err */
static int pack_block(const struct pack *p, json_t *b, size_t *zip_bytes, char *err, size_t errsz)
{
    char pw[SECUREZIP_PW_MAX + 1];
    struct buf zip, b64, enc;
    int rc = -1;

    if (p->error[0]) {
        snprintf(err, errsz, "%s", p->error);
        return -1;
    }
    buf_init(&zip, securezip_conf.zip_limit);
    buf_init(&b64, securezip_conf.zip_limit / 3 * 4 + 8);
    buf_init(&enc, 256);
    if (securezip_pw_make(pw, securezip_pw_length(p->pw_type), NULL) < 0) {
        snprintf(err, errsz, "the random generator failed");
        goto out;
    }
    if (securezip_pack_build(p->e, p->n, pw, &zip, err, errsz) < 0)
        goto out;
    if (codec_b64_encode(&b64, zip.data, zip.len) < 0 ||
        crypto_secret_encrypt(&enc, pw, strlen(pw)) < 0) {
        snprintf(err, errsz, "cannot encode the ZIP or encrypt its password");
        goto out;
    }
    json_object_set_new(b, "secureZip",
                        json_pack("{s:s,s:s%,s:s}", "name", p->zip_name, "data", buf_ptr(&b64),
                                  b64.len, "password", buf_ptr(&enc)));
    *zip_bytes += zip.len;
    rc = 0;
out:
    explicit_bzero(pw, sizeof(pw));
    buf_free(&zip);
    buf_free(&b64);
    buf_free(&enc);
    return rc;
}

/* drop_flagged - the flagged attachments leave the job */
static void drop_flagged(json_t *atts)
{
    for (size_t i = json_array_size(atts); i-- > 0;)
        if (jsonget_bool(json_array_get(atts, i), "secureDocument"))
            json_array_remove(atts, i);
}

static enum tx_code handle(struct job *job)
{
    json_t *d = job->env.data, *atts = json_object_get(d, "attachments");
    json_t *blocks = json_object_get(d, "blocks"), *sd;
    json_t *packed = json_array();
    struct pack p;
    size_t nb = json_array_size(blocks), failed = 0, zip_bytes = 0;
    char err[300];

    if (strcmp(job->env.type, "job") != 0 || !json_is_array(blocks)) {
        json_decref(packed);
        worker_job_reason(job, "not a REST job envelope (type %s)", job->env.type);
        return TX_REJECT_MALFORMED;
    }
    memset(&p, 0, sizeof(p));
    sd = json_object_get(json_object_get(d, "options"), "secureDocument");
    p.pw_type = jsonget_str(sd, "passwordType");
    if (securezip_pw_length(p.pw_type) < 0)
        p.pw_type = NULL;
    zip_name(p.zip_name, sizeof(p.zip_name), jsonget_str(sd, "filename"));
    collect(job, atts, &p, packed);
    if (p.n == 0) {
        msg_info("%s: blocks=%zu, packed=0, status=unchanged (no flagged attachment)",
                 job->env.job_id, nb);
        json_decref(packed);
        pack_free(&p);
        worker_job_forward_input(job);
        return TX_OK;
    }
    for (size_t i = nb; i-- > 0;) {
        json_t *b = json_array_get(blocks, i);
        if (pack_block(&p, b, &zip_bytes, err, sizeof(err)) == 0)
            continue;
        char why[400];
        snprintf(why, sizeof(why), "the password-protected ZIP could not be built: %s", err);
        fail_block(job, b, why);
        json_array_remove(blocks, i);
        failed++;
        msg_info("%s: block=%zu, status=failed (%s)", job->env.job_id, i, why);
    }
    drop_flagged(atts);
    json_object_set_new(d, "secureDocument", json_pack("{s:o}", "packed", packed));
    metrics_count("txmail_securezip_blocks_total", "outcome", "packed", (long long)(nb - failed));
    metrics_count("txmail_securezip_blocks_total", "outcome", "failed", (long long)failed);
    metrics_count("txmail_securezip_zip_bytes_total", NULL, NULL, (long long)zip_bytes);
    msg_info("%s: blocks=%zu, packed=%zu, failed=%zu, zip=%s, entries=%zu, status=%s",
             job->env.job_id, nb, nb - failed, failed, p.zip_name, p.n,
             failed == nb ? "failed" : "packed");
    pack_free(&p);
    if (failed < nb)
        worker_job_forward_input(job);
    return TX_OK;
}

static struct worker w = {
    .name = "securezip",
    .queue = "securezip",
    .params = securezip_params,
    .default_concurrency = 2,
    .default_schedule = "5s,30s,1m,5m",
    .default_max_age = "2d",
    .init = init,
    .handle = handle,
};

int main(int argc, char **argv)
{
    return worker_main(argc, argv, &w);
}
