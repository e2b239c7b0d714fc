/*
 * NAME
 *   txmail-loadgen - HTTP POST load generator for the benchmarks
 * SYNOPSIS
 *   txmail-loadgen -u URL -f BODY_FILE [-n TOTAL] [-c CONCURRENCY]
 *                  [-r RATE_PER_S] [-a USER:PASSWORD] [-k] [-C CA_FILE] [-w]
 *                  [-l LATENCY_FILE]
 * DESCRIPTION
 *   Posts BODY_FILE (application/json) TOTAL times with at most
 *   CONCURRENCY requests in flight over persistent connections (libcurl
 *   multi), optionally paced to RATE_PER_S (constant arrival rate, so
 *   latency figures do not suffer from coordinated omission: latency is
 *   measured from the scheduled send time). Prints one JSON line:
 *   {"sent","ok","errors","status":{code:count},"seconds","rate",
 *    "p50_ms","p90_ms","p99_ms","max_ms","first_ok_ms","last_ok_ms"}
 *   (first/last_ok_ms: wall clock of the first and last 2xx answer).
 *   -w opens the connections before the clock starts; -l writes every
 *   request's latency (ms, in completion order) to LATENCY_FILE, so that
 *   runs can be pooled.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct req {
    CURL *h;
    double scheduled;
    int busy;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* the command line */
struct opts {
    const char *url, *file, *auth, *ca, *latfile;
    long total, conc;
    double rate;
    int insecure, warm;
};

/* what the run counted */
struct tally {
    long sent, done, ok, errors, status[600];
    double first_ok, last_ok;
    double *lat; /* ms per request, in completion order */
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
    int opt;

    memset(o, 0, sizeof(*o));
    o->total = 100;
    o->conc = 10;
    while ((opt = getopt(argc, argv, "u:f:n:c:r:a:kC:wl:")) != -1) {
        switch (opt) {
        case 'u':
            o->url = optarg;
            break;
        case 'f':
            o->file = optarg;
            break;
        case 'n':
            o->total = strtol(optarg, NULL, 10);
            break;
        case 'c':
            o->conc = strtol(optarg, NULL, 10);
            break;
        case 'r':
            o->rate = strtod(optarg, NULL);
            break;
        case 'a':
            o->auth = optarg;
            break;
        case 'k':
            o->insecure = 1;
            break;
        case 'C':
            o->ca = optarg;
            break;
        case 'w':
            o->warm = 1;
            break;
        case 'l':
            o->latfile = optarg;
            break;
        default:
            fprintf(stderr, "usage: txmail-loadgen -u URL -f BODY [-n N] [-c C] [-r RATE] [-a U:P] "
                            "[-k] [-C CA] [-w] [-l FILE]\n");
            return -1;
        }
    }
    return 0;
}

/* easy_handle - one connection's request: POST body, its answer discarded */
static CURL *easy_handle(const struct opts *o, const char *body, curl_off_t len,
                         struct curl_slist *hdr, struct req *r)
{
    CURL *h = curl_easy_init();

    curl_easy_setopt(h, CURLOPT_URL, o->url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_PRIVATE, r);
    if (o->auth) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, o->auth);
    }
    if (o->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca);
    return h;
}

/*
 * warm_up - -w: one request per connection before the clock starts, so the
 * measured requests find their connections open (as a client's pool does)
 * instead of paying TLS set-up when a burst needs one more
 */
static void warm_up(CURLM *m, struct req *reqs, long conc)
{
    int running = 1;

    for (long i = 0; i < conc; i++)
        curl_multi_add_handle(m, reqs[i].h);
    while (running) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    for (long i = 0; i < conc; i++)
        curl_multi_remove_handle(m, reqs[i].h);
}

/* collect - count the finished requests, freeing their connections */
static void collect(CURLM *m, struct tally *t)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct req *r;
        long code = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        t->lat[t->done] = (now_s() - r->scheduled) * 1000.0;
        if (msg->data.result == CURLE_OK && code >= 200 && code < 300) {
            t->ok++;
            t->last_ok = wall_ms();
            if (t->first_ok == 0)
                t->first_ok = t->last_ok;
        } else {
            t->errors++;
        }
        if (code > 0 && code < 600)
            t->status[code]++;
        t->done++;
        curl_multi_remove_handle(m, msg->easy_handle);
        r->busy = 0;
    }
}

/* run_load - send o->total requests (paced to o->rate from start) until all are answered */
static void run_load(CURLM *m, struct req *reqs, const struct opts *o, double start,
                     struct tally *t)
{
    while (t->done < o->total) {
        double now = now_s();
        for (long i = 0; i < o->conc && t->sent < o->total; i++) {
            if (reqs[i].busy)
                continue;
            double due = o->rate > 0 ? start + t->sent / o->rate : now;
            if (due > now)
                break;
            reqs[i].scheduled = due;
            reqs[i].busy = 1;
            curl_multi_add_handle(m, reqs[i].h);
            t->sent++;
        }
        int running;
        curl_multi_perform(m, &running);
        collect(m, t);
        int numfds;
        curl_multi_poll(m, NULL, 0, o->rate > 0 ? 1 : 10, &numfds);
    }
}

/* report - the latency file (-l), then the JSON line; -1 when the file cannot be written */
static int report(const struct opts *o, struct tally *t, double secs)
{
    long total = o->total;
    double *lat = t->lat;

    if (o->latfile) {
        FILE *lf = fopen(o->latfile, "w");
        if (lf == NULL)
            return -1;
        for (long i = 0; i < total; i++)
            fprintf(lf, "%.3f\n", lat[i]);
        fclose(lf);
    }
    qsort(lat, (size_t)total, sizeof(double), cmp);
    printf("{\"sent\":%ld,\"ok\":%ld,\"errors\":%ld,\"status\":{", t->sent, t->ok, t->errors);
    int first = 1;
    for (int c = 0; c < 600; c++)
        if (t->status[c]) {
            printf("%s\"%d\":%ld", first ? "" : ",", c, t->status[c]);
            first = 0;
        }
    printf("},\"seconds\":%.3f,\"rate\":%.1f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,"
           "\"max_ms\":%.2f,\"first_ok_ms\":%.0f,\"last_ok_ms\":%.0f}\n",
           secs, total / secs, lat[total / 2], lat[total * 9 / 10], lat[total * 99 / 100],
           lat[total - 1], t->first_ok, t->last_ok);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct tally t;

    if (parse_opts(argc, argv, &o) < 0)
        return 2;
    if (!o.url || !o.file || o.total < 1 || o.conc < 1)
        return 2;
    FILE *fp = fopen(o.file, "rb");
    struct stat st;
    if (!fp || fstat(fileno(fp), &st) < 0)
        return 1;
    char *body = malloc((size_t)st.st_size + 1);
    if (fread(body, 1, (size_t)st.st_size, fp) != (size_t)st.st_size)
        return 1;
    fclose(fp);
    curl_global_init(CURL_GLOBAL_ALL);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, o.conc);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, o.conc);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    struct req *reqs = calloc((size_t)o.conc, sizeof(*reqs));
    memset(&t, 0, sizeof(t));
    t.lat = calloc((size_t)o.total, sizeof(double));
    double start = now_s();
    for (long i = 0; i < o.conc; i++)
        reqs[i].h = easy_handle(&o, body, (curl_off_t)st.st_size, hdr, &reqs[i]);
    if (o.warm) {
        warm_up(m, reqs, o.conc);
        start = now_s();
    }
    run_load(m, reqs, &o, start, &t);
    if (report(&o, &t, now_s() - start) < 0)
        return 1;
    return t.errors ? 1 : 0;
}
