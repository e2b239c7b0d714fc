/*
 * render_bench - run the REST render path of txmail-render in-process on
 * the benchmark's 200 KB job (bench/bench_txmail.py job_body("200KB")),
 * without broker or database, so its CPU cost can be measured with
 * callgrind (instruction counts do not depend on the machine's load).
 *
 *   render_bench [-n count] [-k rsa.pem] [-o out] [-u] [-r rcpts]
 *
 * Each round decodes the job envelope as txmail-rest publishes it (JSON
 * line, body text and attachment in raw segments), renders and signs
 * the copy (open and link tracking, DKIM rsa-sha256) and drops what was
 * queued. -u turns tracking off; -r sends the block to that many
 * addresses (1). -o writes the first round's message envelope, to compare the
 * output of two builds byte for byte (same -k key; tracking tokens carry
 * an expiry in seconds, so run both within the same second). Without -k
 * an RSA-2048 key is generated at start, outside the measured work.
 *
 * Built by workers/render/module.mk as build/bin/render_bench; never run
 * by "make test". Its log lines (one per copy) go to stderr.
 */
#include "global/envelope.h"
#include "global/ids.h"
#include "global/txconf.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "workers/render/render.h"
#include "workers/render/render_hooks.h"

#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* render.c (not linked: it holds main) */
struct render_params render_p;

#define JOB_ID "0f8fad5b-d9cb-469f-a165-70867728950e"

/* job_raw - the body text and attachment base64 of job_body("200KB"), and their segments */
static void job_raw(struct buf *raw, size_t seg[2][2])
{
    struct buf html = BUF_INIT(1 << 20);
    unsigned char *bin = xmalloc(100 * 1024);
    uint64_t x = 1;

    buf_puts(&html, "<html><body><h1>Your order</h1>\n");
    for (int i = 0; i < 30; i++)
        buf_printf(&html,
                   "<p>Item %d: <a href=\"https://shop.example.com/p?id=%d&amp;ref=bench\">"
                   "view item %d</a></p>\n",
                   i, i, i);
    buf_puts(&html, "<p>");
    for (int i = 0; i < 900; i++)
        buf_puts(&html, "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ");
    buf_puts(&html, "</p>\n</body></html>");
    for (size_t i = 0; i < 100 * 1024; i++) { /* xorshift: random-looking, reproducible */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        bin[i] = (unsigned char)(x >> 24);
    }
    seg[0][0] = raw->len;
    buf_append(raw, html.data, html.len);
    seg[0][1] = html.len;
    seg[1][0] = raw->len;
    codec_b64_encode(raw, bin, 100 * 1024);
    seg[1][1] = raw->len - seg[1][0];
    buf_free(&html);
    xfree(bin);
}

/* job_envelope - the envelope txmail-rest would publish for the job */
static void job_envelope(char **body, size_t *len, int track, int nrcpt)
{
    struct envelope e;
    struct buf raw = BUF_INIT(1 << 24);
    size_t seg[2][2];
    char rid[RID_STR_LEN + 1];
    json_error_t jerr;

    job_raw(&raw, seg);
    ids_rid_format(rid, JOB_ID, 0, 0);
    json_t *d = json_pack_ex(
        &jerr, 0,
        "{s:s,s:s,s:{s:i,s:s,s:s,s:n},s:{s:i,s:s},s:n,s:n,s:n,"
        "s:{s:s,s:b,s:s,s:n},"
        "s:{s:s,s:[I,I],s:b,s:s,s:n},"
        "s:{s:s,s:b,s:s,s:n},"
        "s:[{s:s,s:s,s:n,s:b,s:[I,I]}],"
        "s:{s:{s:s,s:s,s:s},s:n,s:n,s:n,s:n,s:n,s:{}},"
        "s:[{s:i,s:n,s:n,s:n,s:n,s:n,s:{},s:b,s:b,s:n,"
        "s:[{s:s,s:i,s:s,s:s,s:s,s:b,s:n}],s:[],s:[]}],"
        "s:{},s:{s:b,s:b,s:i}}",
        "entry", "rest", "receivedTs", "2026-11-28T12:00:00.000Z", "account", "id", 1, "name",
        "demo", "customerNo", "", "tenant", "senderDomain", "id", 1, "domain", "example.com",
        "referenceJob", "costCenter", "campaignId", "subject", "text",
        "Benchmark order confirmation", "template", 0, "charset", "UTF-8", "cte", "body",
        "contentType", "text/html", "textRaw", (json_int_t)seg[0][0], (json_int_t)seg[0][1],
        "template", 0, "charset", "UTF-8", "cte", "alternative", "text",
        "Your order, in plain text.", "template", 0, "charset", "UTF-8", "cte", "attachments",
        "name", "invoice.pdf", "contentType", "application/pdf", "contentId", "secureDocument", 0,
        "raw", (json_int_t)seg[1][0], (json_int_t)seg[1][1], "mail", "from", "email",
        "Shop <shop@example.com>", "addr", "shop@example.com", "display", "Shop", "mimeFrom",
        "replyTo", "inReplyTo", "priority", "listUnsubscribe", "xHeaders", "blocks", "index", 0,
        "reference", "replyTo", "inReplyTo", "priority", "listUnsubscribe", "xHeaders",
        "openTracking", track, "linkTracking", track, "personalization", "to", "rid", rid, "index",
        0, "email", "Bench <sink@example.test>", "addr", "sink@example.test", "display", "Bench",
        "utf8", 0, "drop", "cc", "bcc", "options", "settings", "autoEscapeHtml", 0,
        "oneClickUnsubscribe", 0, "trackingWindowDays", 10);
    if (d == NULL)
        msg_fatal("job data: %s", jerr.text);
    /* more addresses in the block: copies of the first with their own rid */
    json_t *to = json_object_get(json_array_get(json_object_get(d, "blocks"), 0), "to");
    for (int i = 1; i < nrcpt; i++) {
        json_t *r = json_deep_copy(json_array_get(to, 0));
        ids_rid_format(rid, JOB_ID, 0, (uint32_t)i);
        json_object_set_new(r, "rid", json_string(rid));
        json_object_set_new(r, "index", json_integer(i));
        json_array_append_new(to, r);
    }
    envelope_init(&e, "job");
    json_decref(e.data);
    e.data = d;
    snprintf(e.job_id, sizeof(e.job_id), "%s", JOB_ID);
    e.account_id = 1;
    e.created_ms = 1795867200000LL;
    envelope_set_slip_csv(&e, "render,deliver");
    size_t rawlen = raw.len;
    envelope_take_raw(&e, buf_steal(&raw, NULL), rawlen);
    if (envelope_encode(&e, body, len) < 0)
        msg_fatal("cannot encode the job envelope");
    envelope_free(&e);
}

static EVP_PKEY *load_key(const char *path)
{
    EVP_PKEY *k = NULL;
    enum dkim_alg alg;
    char err[200];

    if (path == NULL) {
        if ((k = EVP_RSA_gen(2048)) == NULL)
            msg_fatal("cannot generate an RSA key");
        return k;
    }
    FILE *f = fopen(path, "r");
    char pem[16384];
    size_t n = f ? fread(pem, 1, sizeof(pem), f) : 0;
    if (f)
        fclose(f);
    if (n == 0 || dkim_key_from_pem(&k, &alg, pem, n, err, sizeof(err)) < 0)
        msg_fatal("%s: no usable key", path);
    return k;
}

/* one_round - what handle() does for a REST job once the database has answered
 * (not inlined: callgrind --toggle-collect=one_round measures just this) */
static __attribute__((noinline)) void one_round(const char *body, size_t len,
                                                struct render_domain *dom, int nrcpt, FILE *out)
{
    struct job job;
    struct render_run run;
    char err[256];

    memset(&job, 0, sizeof(job));
    if (envelope_decode(&job.env, body, len, err, sizeof(err)) < 0)
        msg_fatal("decode: %s", err);
    memset(&run, 0, sizeof(run));
    run.job = &job;
    run.data = job.env.data;
    run.entry = jsonget_str(run.data, "entry");
    json_t *mail = json_object_get(run.data, "mail");
    run.from_email = jsonget_str(json_object_get(mail, "from"), "email");
    run.from_addr = jsonget_str(json_object_get(mail, "from"), "addr");
    run.dom = dom;
    snprintf(run.msgid_domain, sizeof(run.msgid_domain), "%s", dom->message_id_domain);
    run.t_sign = 1795867201;
    if (render_job_rest(&run) != TX_OK || run.copies != nrcpt)
        msg_fatal("render failed: %s", job.reason);
    render_track_run_done(&run);
    for (int i = 0; i < job.nouts; i++) {
        if (out && strcmp(job.outs[i].exchange, MQ_EXCHANGE_WORK) == 0)
            fwrite(job.outs[i].body, 1, job.outs[i].len, out);
        xfree(job.outs[i].body);
    }
    xfree(job.outs);
    envelope_free(&job.env);
}

int main(int argc, char **argv)
{
    int n = 10, c, track = 1, nrcpt = 1;
    const char *keyfile = NULL, *outfile = NULL;
    struct render_domain dom;
    char *body;
    size_t len;

    while ((c = getopt(argc, argv, "n:k:o:ur:")) != -1) {
        switch (c) {
        case 'n':
            n = (int)strtol(optarg, NULL, 10);
            break;
        case 'k':
            keyfile = optarg;
            break;
        case 'o':
            outfile = optarg;
            break;
        case 'u':
            track = 0;
            break;
        case 'r':
            nrcpt = (int)strtol(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr,
                    "usage: render_bench [-n count] [-k rsa.pem] [-o out] [-u] [-r rcpts]\n");
            return 2;
        }
    }
    render_p.max_message = 20LL << 20;
    render_p.max_template = 1LL << 20;
    render_p.batch_bytes = 32LL << 20;
    txconf.tracking_base_url = "https://track.example.com";
    txconf.tracking_keys = "1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    memset(&dom, 0, sizeof(dom));
    dom.id = dom.account_id = 1;
    dom.found = 1;
    snprintf(dom.domain, sizeof(dom.domain), "example.com");
    snprintf(dom.message_id_domain, sizeof(dom.message_id_domain), "mail.example.com");
    dom.sign[0].pkey = load_key(keyfile);
    dom.sign[0].alg = DKIM_RSA_SHA256;
    dom.sign[0].domain = "example.com";
    dom.sign[0].selector = "bench";
    dom.nsign = 1;

    if (nrcpt < 1)
        nrcpt = 1;
    job_envelope(&body, &len, track, nrcpt);
    for (int i = 0; i < n; i++) {
        FILE *out = NULL;
        if (i == 0 && outfile && (out = fopen(outfile, "w")) == NULL)
            msg_fatal("%s: cannot write", outfile);
        one_round(body, len, &dom, nrcpt, out);
        if (out)
            fclose(out);
    }
    xfree(body);
    EVP_PKEY_free(dom.sign[0].pkey);
    return 0;
}
