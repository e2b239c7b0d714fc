/*
 * NAME
 *   txmail-exporter - one Prometheus endpoint for every txmail program
 * SYNOPSIS
 *   txmail-exporter [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Every txmail program writes its metrics every 5 s to the textfile
 *   metrics_dir/<program>-<pid>.prom (lib/global/metrics.c). The exporter
 *   serves them all, merged, as one exposition (text format 0.0.4) at
 *   GET /metrics on exporter_address:exporter_port, to the clients of
 *   exporter_allow only (others: 403); GET /health answers "ok".
 *
 *   A scrape reads every <program>-<pid>.prom of metrics_dir and leaves
 *   out the files of processes that are gone (no process pid) and the
 *   files older than exporter_stale (a hung or killed process, or a pid
 *   reused by another program). The rest is merged (exporter_merge.c):
 *   one TYPE (and HELP, when given) per family, the type most files
 *   declare, the samples of a family together, each labelled program and
 *   pid, no series twice; lines that do not parse, and a file's samples of
 *   a family it declares with another type, are left out and counted. Nothing is cached: each scrape
 *   reads the files afresh.
 *
 *   The other documented way (docs/OPERATIONS.md, "Metrics") is
 *   node_exporter's textfile collector pointed at metrics_dir: the files
 *   carry program and pid labels, so they merge there too (stale files of
 *   killed processes are then node_exporter's to ignore, or a cron job's
 *   to delete).
 * CONSUMES
 *   nothing (reads metrics_dir).
 * PUBLISHES
 *   nothing.
 * WRITES
 *   its own textfile in metrics_dir.
 * PARAMETERS
 *   exporter_address (127.0.0.1)        address to listen on (IPv4 or IPv6)
 *   exporter_port (9464)                port of GET /metrics and /health
 *   exporter_allow (127.0.0.1,::1)      clients served (addresses or networks)
 *   exporter_stale (15s)                textfiles older than this are left out
 *   and the shared parameters of txconf.h (metrics_dir, log_file).
 * METRICS
 *   txmail_exporter_scrapes_total{outcome} (ok, refused),
 *   txmail_exporter_files_total{state} (merged, stale, dead),
 *   txmail_exporter_rejected_lines_total, txmail_latency_seconds (scrape).
 */
#include "exporter.h"
#include "global/access/netaddr.h"
#include "global/metrics.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORTER_FILE_MAX (4 << 20)
#define EXPORTER_OUT_MAX (64 << 20)
#define EXPORTER_FLUSH_MS 5000
#define EXPORTER_FILES_MAX 4096

struct exporter_conf exporter_conf;

static struct cfg_param exporter_params[] = {
    {"exporter_address", CFG_STR, &exporter_conf.address, "127.0.0.1", 0, 0, 0,
     "address to listen on", 0, 0},
    {"exporter_port", CFG_INT, &exporter_conf.port, "9464", 1, 65535, 0,
     "port of GET /metrics and /health", 0, 0},
    {"exporter_allow", CFG_STR, &exporter_conf.allow, "127.0.0.1,::1", 0, 0, 0,
     "clients served (addresses or networks, comma-separated)", 0, 0},
    {"exporter_stale", CFG_TIME, &exporter_conf.stale, "15s", 1000, 86400000, 0,
     "textfiles older than this are left out", 0, 0},
    {0},
};

static struct netaddr_list allow;

/* file_owner - program and pid of "<program>-<pid>.prom"; -1 when the name is not one */
static int file_owner(const char *name, char *prog, size_t progsz, long *pid)
{
    size_t n = strlen(name);
    const char *dash;
    char *end;

    if (n < 8 || strcmp(name + n - 5, ".prom") != 0 || (dash = strrchr(name, '-')) == NULL ||
        dash == name || (size_t)(dash - name) >= progsz)
        return -1;
    *pid = strtol(dash + 1, &end, 10);
    if (end == dash + 1 || strcmp(end, ".prom") != 0 || *pid <= 0)
        return -1;
    snprintf(prog, progsz, "%.*s", (int)(dash - name), name);
    return 0;
}

/* one textfile taken into a scrape */
struct textfile {
    char name[256], prog[64];
    long pid;
    char *text;
    size_t len;
};

/* read_file - f->text of metrics_dir/name when its process is alive and it is fresh; 0 or -1 */
static int read_file(struct textfile *f, const char *dir, const char *name, int64_t now)
{
    char path[1024];
    struct stat st;
    FILE *fp;

    if (strlen(name) >= sizeof(f->name) || file_owner(name, f->prog, sizeof(f->prog), &f->pid) < 0)
        return -1;
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return -1;
    if (kill((pid_t)f->pid, 0) < 0 && errno == ESRCH) {
        metrics_count("txmail_exporter_files_total", "state", "dead", 1);
        return -1;
    }
    if (now - (int64_t)st.st_mtime * 1000 > exporter_conf.stale) {
        metrics_count("txmail_exporter_files_total", "state", "stale", 1);
        return -1;
    }
    if ((fp = fopen(path, "r")) == NULL)
        return -1; /* gone meanwhile: the process exited */
    f->text = xmalloc(EXPORTER_FILE_MAX);
    f->len = fread(f->text, 1, EXPORTER_FILE_MAX, fp);
    fclose(fp);
    return 0;
}

/* read_dir - the fresh textfiles of live processes in dir; *n of them. Ownership: new. */
static struct textfile *read_dir(const char *dir, int64_t now, size_t *n)
{
    struct textfile *v = NULL;
    size_t cap = 0;
    struct dirent *e;
    DIR *d;

    *n = 0;
    if (dir == NULL || !*dir || (d = opendir(dir)) == NULL)
        return NULL;
    while ((e = readdir(d)) != NULL && *n < EXPORTER_FILES_MAX) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            v = xrealloc(v, cap * sizeof(*v));
        }
        memset(&v[*n], 0, sizeof(v[*n]));
        if (read_file(&v[*n], dir, e->d_name, now) == 0)
            (*n)++;
    }
    closedir(d);
    return v;
}

/* scrape - the merged exposition of metrics_dir into out */
static void scrape(struct buf *out)
{
    struct exporter_set *s = exporter_merge_create();
    size_t n;
    struct textfile *files = read_dir(txconf.metrics_dir, timeutil_now_ms(), &n);

    for (size_t i = 0; i < n; i++)
        exporter_merge_vote(s, files[i].text, files[i].len);
    exporter_merge_decide(s);
    for (size_t i = 0; i < n; i++) {
        long long bad =
            exporter_merge_text(s, files[i].text, files[i].len, files[i].prog, files[i].pid);
        if (bad)
            msg_warn("%s: rejected=%lld status=partial (lines that do not parse or contradict)",
                     files[i].name, bad);
        metrics_count("txmail_exporter_rejected_lines_total", NULL, NULL, bad);
        metrics_count("txmail_exporter_files_total", "state", "merged", 1);
        xfree(files[i].text);
    }
    xfree(files);
    exporter_merge_render(s, out);
    exporter_merge_free(s);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const void *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static int client_allowed(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct netaddr a;

    return ci && ci->client_addr && netaddr_from_sockaddr(&a, ci->client_addr) == 0 &&
           netaddr_list_match(&allow, &a);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    static const char text[] = "text/plain; charset=utf-8";
    int64_t started = timeutil_mono_ms();
    struct buf out = BUF_INIT(EXPORTER_OUT_MAX);
    enum MHD_Result rc;

    (void)cls, (void)version, (void)upload, (void)upload_size, (void)con_cls;
    if (!client_allowed(c)) {
        metrics_count("txmail_exporter_scrapes_total", "outcome", "refused", 1);
        return reply(c, 403, text, "Forbidden\n", 10);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, 405, text, "Method Not Allowed\n", 19);
    if (strcmp(url, "/health") == 0)
        return reply(c, 200, text, "ok\n", 3);
    if (strcmp(url, "/metrics") != 0)
        return reply(c, 404, text, "Not Found\n", 10);
    scrape(&out);
    if (buf_error(&out)) {
        buf_free(&out);
        return reply(c, 500, text, "Internal Error\n", 15);
    }
    rc = reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", buf_ptr(&out), out.len);
    buf_free(&out);
    metrics_count("txmail_exporter_scrapes_total", "outcome", "ok", 1);
    metrics_latency(timeutil_mono_ms() - started);
    return rc;
}

/* listen_addr - exporter_address and exporter_port as a socket address */
static void listen_addr(struct sockaddr_storage *ss, int *v6)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    *v6 = strchr(exporter_conf.address, ':') != NULL;
    if (!*v6 && inet_pton(AF_INET, exporter_conf.address, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)exporter_conf.port);
    } else if (*v6 && inet_pton(AF_INET6, exporter_conf.address, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)exporter_conf.port);
    } else {
        msg_fatal("exporter_address: not an IP address: %s", exporter_conf.address);
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_storage ss;
    struct MHD_Daemon *d;
    char err[256];
    sigset_t sigs;
    int v6, sig = 0;

    txconf_init(argc, argv, "exporter", exporter_params, NULL, NULL);
    if (netaddr_list_parse(&allow, exporter_conf.allow, err, sizeof(err)) < 0)
        msg_fatal("exporter_allow: %s", err);
    listen_addr(&ss, &v6);
    /* the signals are taken by sigtimedwait below, in this thread only */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
                         handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                         MHD_OPTION_CONNECTION_LIMIT, 32U, MHD_OPTION_CONNECTION_TIMEOUT, 10U,
                         MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (d == NULL)
        msg_fatal("cannot listen on %s port %lld", exporter_conf.address, exporter_conf.port);
    msg_info("listening on %s port %lld, metrics_dir=%s", exporter_conf.address, exporter_conf.port,
             txconf.metrics_dir ? txconf.metrics_dir : "");
    metrics_flush();
    while (sig <= 0) {
        struct timespec ts = {EXPORTER_FLUSH_MS / 1000, 0};
        sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig < 0 && errno != EAGAIN && errno != EINTR)
            msg_fatal("sigtimedwait: %m");
        metrics_flush();
    }
    msg_info("signal %d: stopping", sig);
    MHD_stop_daemon(d);
    metrics_remove();
    netaddr_list_free(&allow);
    return 0;
}
