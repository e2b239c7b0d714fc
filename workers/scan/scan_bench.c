/*
 * scan_bench - the scan stage's engines in one thread on the benchmark's
 * files (bench/bench_scan.py): every FILE is scanned as an attachment of
 * a REST job (scan_job_check), N rounds, with both engines and with
 * libclamav alone. Prints one JSON line:
 *   {"files":F,"rounds":N,"both":{"jobs_s":..,"cpu_ms":..},"clamav":{...}}
 * usage: scan_bench CLAMAV_DIR YARA_DIR ROUNDS FILE...
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

/* job - a REST job with the file as its one attachment (base64 in a raw segment) */
static void job(struct envelope *e, const char *path)
{
    FILE *f = fopen(path, "rb");
    struct buf in, out;
    char chunk[65536];
    size_t n;

    if (f == NULL)
        msg_fatal("%s: cannot open", path);
    buf_init(&in, 1 << 30);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&in, chunk, n);
    fclose(f);
    buf_init(&out, 1 << 30);
    codec_b64_encode(&out, in.data, in.len);
    envelope_init(e, "job");
    e->data = json_pack("{s:s,s:{s:s},s:[{s:s,s:[i,i]}]}", "entry", "rest", "body", "text",
                        "Hello, the bench's body text.", "attachments", "name", path, "raw", 0,
                        (int)out.len);
    e->raw_len = out.len;
    e->raw = buf_steal(&out, NULL);
    buf_free(&in);
}

/* run - rounds over the jobs; prints "name":{...} */
static void run(const char *name, const struct scan_job_engines *en, struct envelope *jobs, int n,
                int rounds, int yara)
{
    struct scan_job_result r;
    double c0 = cpu_ms();
    int64_t t0 = timeutil_mono_ms();
    struct scan_engine *ce;
    struct scan_result sr;
    char err[SCAN_ERR_MAX];

    for (int k = 0; k < rounds; k++)
        for (int i = 0; i < n; i++) {
            if (yara) {
                scan_job_check(en, &jobs[i], &r);
                if (r.error)
                    msg_fatal("scan error: %s", r.err);
                scan_job_result_free(&r);
                continue;
            }
            /* libclamav alone on the decoded attachment (the job's decode included) */
            struct buf dec;
            buf_init(&dec, 1 << 30);
            codec_b64_decode(&dec, jobs[i].raw, jobs[i].raw_len, 1);
            if ((ce = scan_acquire(en->clam, err, sizeof(err))) == NULL)
                msg_fatal("%s", err);
            if (scan_engine_buffer(ce, dec.data, dec.len, &sr) == SCAN_ERROR)
                msg_fatal("scan error: %s", sr.err);
            scan_release(en->clam, ce);
            buf_free(&dec);
        }
    double wall = (double)(timeutil_mono_ms() - t0), cpu = cpu_ms() - c0;
    int jobs_n = n * rounds;
    if (name == NULL)
        return;
    printf("\"%s\":{\"jobs\":%d,\"wall_ms\":%.1f,\"jobs_s\":%.1f,\"cpu_ms_per_job\":%.3f}", name,
           jobs_n, wall, wall > 0 ? jobs_n * 1000.0 / wall : 0.0, cpu / jobs_n);
}

int main(int argc, char **argv)
{
    struct scan_job_engines en;
    char err[SCAN_ERR_MAX];
    int rounds, n;

    if (argc < 5) {
        fprintf(stderr, "usage: scan_bench CLAMAV_DIR YARA_DIR ROUNDS FILE...\n");
        return 2;
    }
    msg_init("scan_bench");
    if (scan_open(argv[1], 0, &en.clam, err, sizeof(err)) < 0 ||
        yarascan_open(argv[2], 0, &en.yara, err, sizeof(err)) < 0)
        msg_fatal("%s", err);
    rounds = atoi(argv[3]);
    n = argc - 4;
    struct envelope *jobs = calloc((size_t)n, sizeof(*jobs));
    for (int i = 0; i < n; i++)
        job(&jobs[i], argv[4 + i]);
    /* warm up */
    run(NULL, &en, jobs, n, 1, 1);
    printf("{\"files\":%d,\"rounds\":%d,", n, rounds);
    run("both", &en, jobs, n, rounds, 1);
    printf(",");
    run("clamav", &en, jobs, n, rounds, 0);
    printf("}\n");
    return 0;
}
