/*
 * scan_bench - the scan stage's scanning in one thread on the benchmark's
 * job (bench/bench_scan.py): a REST job of BODY (its text) and one
 * ATTACHMENT file (base64 in a raw segment, as txmail-rest sends it),
 * scope "all", scanned ROUNDS times with scan_job_check (both engines),
 * then the same parts with libclamav alone. One job per attachment file.
 * Prints one JSON line:
 *   {"jobs":N,"bytes_per_job":B,"both":{"jobs_s":..,"cpu_ms_per_job":..},"clamav":{...}}
 * and exits 1 when any job is not clean (the benchmark's files are).
 * usage: scan_bench CLAMAV_DIR YARA_DIR ROUNDS BODY ATTACHMENT...
 */
#include "global/envelope.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/timeutil.h"
#include "workers/scan/scan_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void slurp(const char *path, struct buf *b)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (f == NULL)
        msg_fatal("%s: cannot open", path);
    buf_init(b, 1 << 30);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(b, chunk, n);
    buf_putc(b, 0);
    b->len--;
    fclose(f);
}

/* job - body text and the attachment's base64 in a raw segment */
static void job(struct envelope *e, const struct buf *body, const char *path)
{
    struct buf in, out;

    slurp(path, &in);
    buf_init(&out, 1 << 30);
    codec_b64_encode(&out, in.data, in.len);
    envelope_init(e, "job");
    json_decref(e->data);
    e->data = json_pack("{s:s,s:{s:{s:s}},s:{s:s%},s:[{s:s,s:[i,i]}]}", "entry", "rest", "options",
                        "antivirus", "scope", "all", "body", "text", body->data, body->len,
                        "attachments", "name", path, "raw", 0, (int)out.len);
    e->raw_len = out.len;
    e->raw = buf_steal(&out, NULL);
    buf_free(&in);
}

/* clam_only - the job's parts (body, decoded attachment) with libclamav alone */
static int clam_only(const struct scan_job_engines *en, const struct envelope *e)
{
    struct scan_engine *ce;
    struct scan_result sr;
    char err[SCAN_ERR_MAX];
    struct buf dec;
    json_t *body = json_object_get(e->data, "body");
    int v;

    buf_init(&dec, 1 << 30);
    codec_b64_decode(&dec, e->raw, e->raw_len, 1);
    if ((ce = scan_acquire(en->clam, err, sizeof(err))) == NULL)
        msg_fatal("%s", err);
    v = scan_engine_buffer(ce, json_string_value(json_object_get(body, "text")),
                           json_string_length(json_object_get(body, "text")), &sr);
    if (v == SCAN_CLEAN)
        v = scan_engine_buffer(ce, dec.data, dec.len, &sr);
    scan_release(en->clam, ce);
    buf_free(&dec);
    return v;
}

/* run - rounds over the jobs; prints "name":{...} unless name is NULL */
static void run(const char *name, const struct scan_job_engines *en, struct envelope *jobs, int n,
                int rounds, int both)
{
    struct scan_job_result r;
    double c0 = cpu_ms();
    int64_t t0 = timeutil_mono_ms();

    for (int k = 0; k < rounds; k++)
        for (int i = 0; i < n; i++) {
            if (!both) {
                if (clam_only(en, &jobs[i]) != SCAN_CLEAN)
                    msg_fatal("job %d: not clean with libclamav alone", i);
                continue;
            }
            scan_job_check(en, &jobs[i], &r);
            if (r.error || json_array_size(r.infected) > 0 || r.parts != 2)
                msg_fatal("job %d: not clean (%s)", i, r.error ? r.err : "a find");
            scan_job_result_free(&r);
        }
    double wall = (double)(timeutil_mono_ms() - t0), cpu = cpu_ms() - c0;
    int total = n * rounds;
    if (name == NULL)
        return;
    printf("\"%s\":{\"jobs\":%d,\"wall_ms\":%.1f,\"jobs_s\":%.1f,\"cpu_ms_per_job\":%.3f}", name,
           total, wall, wall > 0 ? total * 1000.0 / wall : 0.0, cpu / total);
}

int main(int argc, char **argv)
{
    struct scan_job_engines en;
    struct buf body;
    char err[SCAN_ERR_MAX];
    int rounds, n;

    if (argc < 6) {
        fprintf(stderr, "usage: scan_bench CLAMAV_DIR YARA_DIR ROUNDS BODY ATTACHMENT...\n");
        return 2;
    }
    msg_init("scan_bench");
    if (scan_open(argv[1], 0, &en.clam, err, sizeof(err)) < 0 ||
        yarascan_open(argv[2], 0, &en.yara, err, sizeof(err)) < 0)
        msg_fatal("%s", err);
    char *end;
    long r = strtol(argv[3], &end, 10);
    if (*end || r < 1 || r > 1000000)
        msg_fatal("ROUNDS: a number from 1 to 1000000, not \"%s\"", argv[3]);
    rounds = (int)r;
    slurp(argv[4], &body);
    n = argc - 5;
    struct envelope *jobs = calloc((size_t)n, sizeof(*jobs));
    for (int i = 0; i < n; i++)
        job(&jobs[i], &body, argv[5 + i]);
    run(NULL, &en, jobs, n, 1, 1); /* warm-up */
    printf("{\"jobs\":%d,\"body_bytes\":%zu,", n * rounds, body.len);
    run("both", &en, jobs, n, rounds, 1);
    printf(",");
    run("clamav", &en, jobs, n, rounds, 0);
    printf("}\n");
    for (int i = 0; i < n; i++) {
        json_decref(jobs[i].data);
        free((char *)jobs[i].raw);
    }
    free(jobs);
    buf_free(&body);
    yarascan_close(en.yara);
    scan_close(en.clam);
    return 0;
}
