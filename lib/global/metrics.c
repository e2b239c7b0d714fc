/* metrics - counters, gauges, latency histogram; see metrics.h. */
#include "global/metrics.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define METRICS_MAX 128

struct metric {
    char name[64];
    char label[32];
    char value[48];
    double v;
    int gauge;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric metrics[METRICS_MAX];
static int nmetrics;
static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))
static long long hist[NBOUNDS + 1];
static double hist_sum;
static long long hist_count;
static int64_t started_ms;

static struct metric *find(const char *name, const char *label, const char *value)
{
    for (int i = 0; i < nmetrics; i++)
        if (strcmp(metrics[i].name, name) == 0 &&
            strcmp(metrics[i].label, label ? label : "") == 0 &&
            strcmp(metrics[i].value, value ? value : "") == 0)
            return &metrics[i];
    if (nmetrics == METRICS_MAX)
        return NULL;
    struct metric *m = &metrics[nmetrics++];
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->label, sizeof(m->label), "%s", label ? label : "");
    snprintf(m->value, sizeof(m->value), "%s", value ? value : "");
    return m;
}

void metrics_count(const char *name, const char *label, const char *value, long long n)
{
    pthread_mutex_lock(&lock);
    struct metric *m = find(name, label, value);
    if (m)
        m->v += (double)n;
    pthread_mutex_unlock(&lock);
}

void metrics_gauge(const char *name, double v)
{
    pthread_mutex_lock(&lock);
    struct metric *m = find(name, NULL, NULL);
    if (m) {
        m->v = v;
        m->gauge = 1;
    }
    pthread_mutex_unlock(&lock);
}

void metrics_latency(int64_t ms)
{
    double s = (double)ms / 1000.0;
    size_t i;

    pthread_mutex_lock(&lock);
    for (i = 0; i < NBOUNDS && s > bounds[i]; i++)
        ;
    hist[i]++;
    hist_sum += s;
    hist_count++;
    pthread_mutex_unlock(&lock);
}

/*
 * metrics_render - the exposition text: every family once, with its TYPE
 * line and its samples together; each sample labelled with program and
 * pid, so the textfiles of several processes merge without duplicate
 * series (admin/exporter, or node_exporter's textfile collector).
 */
void metrics_render(struct buf *out)
{
    const char *prog = msg_progname();
    long pid = (long)getpid();
    long long cum = 0;

    if (started_ms == 0)
        started_ms = timeutil_now_ms();
    pthread_mutex_lock(&lock);
    buf_printf(out, "# TYPE txmail_up gauge\ntxmail_up{program=\"%s\",pid=\"%ld\"} 1\n", prog, pid);
    buf_printf(out, "# TYPE txmail_start_time_seconds gauge\n");
    buf_printf(out, "txmail_start_time_seconds{program=\"%s\",pid=\"%ld\"} %lld\n", prog, pid,
               (long long)(started_ms / 1000));
    for (int i = 0; i < nmetrics; i++) {
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = strcmp(metrics[j].name, metrics[i].name) != 0;
        if (!first)
            continue; /* printed with its family */
        buf_printf(out, "# TYPE %s %s\n", metrics[i].name, metrics[i].gauge ? "gauge" : "counter");
        for (int j = i; j < nmetrics; j++) {
            struct metric *m = &metrics[j];
            if (strcmp(m->name, metrics[i].name) != 0)
                continue;
            if (m->label[0])
                buf_printf(out, "%s{program=\"%s\",pid=\"%ld\",%s=\"%s\"} %.0f\n", m->name, prog,
                           pid, m->label, m->value, m->v);
            else
                buf_printf(out, "%s{program=\"%s\",pid=\"%ld\"} %.6g\n", m->name, prog, pid, m->v);
        }
    }
    buf_printf(out, "# TYPE txmail_latency_seconds histogram\n");
    for (size_t i = 0; i <= NBOUNDS; i++) {
        cum += hist[i];
        if (i < NBOUNDS)
            buf_printf(out,
                       "txmail_latency_seconds_bucket{program=\"%s\",pid=\"%ld\",le=\"%g\"} %lld\n",
                       prog, pid, bounds[i], cum);
        else
            buf_printf(
                out, "txmail_latency_seconds_bucket{program=\"%s\",pid=\"%ld\",le=\"+Inf\"} %lld\n",
                prog, pid, cum);
    }
    buf_printf(out, "txmail_latency_seconds_sum{program=\"%s\",pid=\"%ld\"} %.6f\n", prog, pid,
               hist_sum);
    buf_printf(out, "txmail_latency_seconds_count{program=\"%s\",pid=\"%ld\"} %lld\n", prog, pid,
               hist_count);
    pthread_mutex_unlock(&lock);
}

static void path_of(char *out, size_t outsz, const char *suffix)
{
    snprintf(out, outsz, "%s/%s-%ld.prom%s", txconf.metrics_dir, msg_progname(), (long)getpid(),
             suffix);
}

void metrics_flush(void)
{
    char tmp[1024], final[1024];
    struct buf b = BUF_INIT(1 << 20);
    FILE *fp;

    if (txconf.metrics_dir == NULL || !*txconf.metrics_dir)
        return;
    metrics_render(&b);
    path_of(tmp, sizeof(tmp), ".tmp");
    path_of(final, sizeof(final), "");
    if ((fp = fopen(tmp, "w")) != NULL) {
        fwrite(buf_ptr(&b), 1, b.len, fp);
        if (fclose(fp) == 0)
            rename(tmp, final);
    }
    buf_free(&b);
}

void metrics_remove(void)
{
    char final[1024];

    if (txconf.metrics_dir == NULL || !*txconf.metrics_dir)
        return;
    path_of(final, sizeof(final), "");
    unlink(final);
}
