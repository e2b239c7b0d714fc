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

int main(int argc, char **argv)
{
    const char *url = NULL, *file = NULL, *auth = NULL, *ca = NULL, *latfile = NULL;
    long total = 100, conc = 10;
    double rate = 0;
    int insecure = 0, warm = 0, opt;

    while ((opt = getopt(argc, argv, "u:f:n:c:r:a:kC:wl:")) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'f': file = optarg; break;
        case 'n': total = strtol(optarg, NULL, 10); break;
        case 'c': conc = strtol(optarg, NULL, 10); break;
        case 'r': rate = strtod(optarg, NULL); break;
        case 'a': auth = optarg; break;
        case 'k': insecure = 1; break;
        case 'C': ca = optarg; break;
        case 'w': warm = 1; break;
        case 'l': latfile = optarg; break;
        default:
            fprintf(stderr, "usage: txmail-loadgen -u URL -f BODY [-n N] [-c C] [-r RATE] [-a U:P] [-k] [-C CA] [-w] [-l FILE]\n");
            return 2;
        }
    }
    if (!url || !file || total < 1 || conc < 1)
        return 2;
    FILE *fp = fopen(file, "rb");
    struct stat st;
    if (!fp || fstat(fileno(fp), &st) < 0)
        return 1;
    char *body = malloc((size_t)st.st_size + 1);
    if (fread(body, 1, (size_t)st.st_size, fp) != (size_t)st.st_size)
        return 1;
    fclose(fp);
    curl_global_init(CURL_GLOBAL_ALL);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, conc);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    struct req *reqs = calloc((size_t)conc, sizeof(*reqs));
    double *lat = calloc((size_t)total, sizeof(double));
    long sent = 0, done = 0, ok = 0, errors = 0, status[600] = {0};
    double first_ok = 0, last_ok = 0, start = now_s();
    for (long i = 0; i < conc; i++) {
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &reqs[i]);
        if (auth) {
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERPWD, auth);
        }
        if (insecure) {
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (ca)
            curl_easy_setopt(h, CURLOPT_CAINFO, ca);
        reqs[i].h = h;
    }
    if (warm) {
        /* -w: one request per connection before the clock starts, so the
         * measured requests find their connections open (as a client's pool
         * does) instead of paying TLS set-up when a burst needs one more */
        int running = 1;
        for (long i = 0; i < conc; i++)
            curl_multi_add_handle(m, reqs[i].h);
        while (running) {
            curl_multi_perform(m, &running);
            curl_multi_poll(m, NULL, 0, 10, NULL);
        }
        for (long i = 0; i < conc; i++)
            curl_multi_remove_handle(m, reqs[i].h);
        start = now_s();
    }
    while (done < total) {
        double t = now_s();
        for (long i = 0; i < conc && sent < total; i++) {
            if (reqs[i].busy)
                continue;
            double due = rate > 0 ? start + sent / rate : t;
            if (due > t)
                break;
            reqs[i].scheduled = due;
            reqs[i].busy = 1;
            curl_multi_add_handle(m, reqs[i].h);
            sent++;
        }
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct req *r;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            lat[done] = (now_s() - r->scheduled) * 1000.0;
            if (msg->data.result == CURLE_OK && code >= 200 && code < 300) {
                ok++;
                last_ok = wall_ms();
                if (first_ok == 0)
                    first_ok = last_ok;
            } else {
                errors++;
            }
            if (code > 0 && code < 600)
                status[code]++;
            done++;
            curl_multi_remove_handle(m, msg->easy_handle);
            r->busy = 0;
        }
        int numfds;
        curl_multi_poll(m, NULL, 0, rate > 0 ? 1 : 10, &numfds);
    }
    double secs = now_s() - start;
    if (latfile) {
        FILE *lf = fopen(latfile, "w");
        if (lf == NULL)
            return 1;
        for (long i = 0; i < total; i++)
            fprintf(lf, "%.3f\n", lat[i]);
        fclose(lf);
    }
    qsort(lat, (size_t)total, sizeof(double), cmp);
    printf("{\"sent\":%ld,\"ok\":%ld,\"errors\":%ld,\"status\":{", sent, ok, errors);
    int first = 1;
    for (int c = 0; c < 600; c++)
        if (status[c]) {
            printf("%s\"%d\":%ld", first ? "" : ",", c, status[c]);
            first = 0;
        }
    printf("},\"seconds\":%.3f,\"rate\":%.1f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,"
           "\"max_ms\":%.2f,\"first_ok_ms\":%.0f,\"last_ok_ms\":%.0f}\n",
           secs, total / secs, lat[total / 2], lat[total * 9 / 10], lat[total * 99 / 100],
           lat[total - 1], first_ok, last_ok);
    return errors ? 1 : 0;
}
