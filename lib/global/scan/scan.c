/*
 * scan - ClamAV in the process; the manual is scan.h.
 *
 * Engines are reference counted under s->lock: s->cur holds one
 * reference, every scan in flight one more. A reload builds the new
 * engine without the lock (loading takes milliseconds to seconds), then
 * swaps s->cur and drops the directory's reference to the old one: the
 * old engine is freed by whoever drops its last reference. Only one
 * thread loads at a time (s->reload, taken with trylock by the automatic
 * check so scans never wait for a load).
 */
#include "global/scan/scan.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <clamav.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct scan_engine {
    struct cl_engine *cl;
    unsigned sigs;
    int refs; /* under the owning scan's lock */
};

struct scan {
    char *dir;
    int64_t check_ms;
    pthread_mutex_t lock; /* cur, refs, nengines, next_check_ms */
    struct scan_engine *cur;
    int nengines;
    int64_t next_check_ms;
    pthread_mutex_t reload; /* one load at a time; print */
    uint64_t print;         /* fingerprint of the last load attempt */
    int printed;
};

static pthread_once_t scan_once = PTHREAD_ONCE_INIT;
static cl_error_t scan_init_rc;

/* clamav_msg - libclamav's warnings and errors into the log; the rest is dropped */
static void clamav_msg(enum cl_msg severity, const char *fullmsg, const char *text, void *ctx)
{
    char clean[512];
    size_t n = strlen(text);

    (void)fullmsg, (void)ctx;
    if (severity < CL_MSG_WARN)
        return;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    msg_printable(clean, sizeof(clean), text, n);
    msg_warn("libclamav: %s", clean);
}

static void init_once(void)
{
    cl_set_clcb_msg(clamav_msg);
    scan_init_rc = cl_init(CL_INIT_DEFAULT);
}

/* ---- the directory's fingerprint -------------------------------------- */

struct entry {
    char name[256];
    struct stat st;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}

uint64_t scan_dir_fingerprint(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct entry *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t h = 14695981039346656037ULL;
    char path[4096];

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(v->name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        if (stat(path, &v[n].st) < 0 || !S_ISREG(v[n].st.st_mode))
            continue;
        snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof(*v), by_name);
    for (size_t i = 0; i < n; i++) {
        long long f[4] = {(long long)v[i].st.st_size, (long long)v[i].st.st_mtim.tv_sec,
                          (long long)v[i].st.st_mtim.tv_nsec, (long long)v[i].st.st_ino};
        h = fnv(h, v[i].name, strlen(v[i].name) + 1);
        h = fnv(h, f, sizeof(f));
    }
    xfree(v);
    return h ? h : 1;
}

/* ---- engines ----------------------------------------------------------- */

/* load - a compiled engine with every database of dir; NULL with err */
static struct scan_engine *load(const char *dir, char *err, size_t errsz)
{
    struct cl_engine *cl = NULL;
    struct scan_engine *e = NULL;
    unsigned sigs = 0;
    struct stat st;
    cl_error_t rc;

    pthread_once(&scan_once, init_once);
    if (scan_init_rc != CL_SUCCESS) {
        snprintf(err, errsz, "cl_init: %s", cl_strerror(scan_init_rc));
        goto out;
    }
    if (stat(dir, &st) < 0) {
        snprintf(err, errsz, "signature directory %s: %s", dir, strerror(errno));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "signature directory %s: not a directory", dir);
        goto out;
    }
    if ((cl = cl_engine_new()) == NULL) {
        snprintf(err, errsz, "cl_engine_new failed");
        goto out;
    }
    if ((rc = cl_load(dir, cl, &sigs, CL_DB_STDOPT)) != CL_SUCCESS) {
        snprintf(err, errsz, "loading %s: %s", dir, cl_strerror(rc));
        goto out;
    }
    if (sigs == 0) {
        snprintf(err, errsz, "no signatures in %s", dir);
        goto out;
    }
    if ((rc = cl_engine_compile(cl)) != CL_SUCCESS) {
        snprintf(err, errsz, "compiling %s: %s", dir, cl_strerror(rc));
        goto out;
    }
    e = xcalloc(1, sizeof(*e));
    e->cl = cl;
    e->sigs = sigs;
    e->refs = 1;
    cl = NULL;
out:
    if (cl)
        cl_engine_free(cl);
    return e;
}

/* drop - one reference less on e (s->lock held); 1 when it was the last */
static int drop(struct scan *s, struct scan_engine *e)
{
    if (--e->refs > 0)
        return 0;
    s->nengines--;
    return 1;
}

static void engine_free(struct scan_engine *e)
{
    if (e == NULL)
        return;
    cl_engine_free(e->cl);
    xfree(e);
}

/* swap - make e the current engine; the old one goes when its scans are done */
static void swap(struct scan *s, struct scan_engine *e)
{
    struct scan_engine *old;
    int last = 0;

    pthread_mutex_lock(&s->lock);
    old = s->cur;
    s->cur = e;
    s->nengines++;
    if (old)
        last = drop(s, old);
    pthread_mutex_unlock(&s->lock);
    if (last)
        engine_free(old);
}

/* reload - the body of scan_reload_if_changed with s->reload held */
static int reload(struct scan *s, char *err, size_t errsz)
{
    uint64_t print = scan_dir_fingerprint(s->dir);
    struct scan_engine *e;

    if (s->printed && print == s->print)
        return 0;
    s->print = print;
    s->printed = 1;
    if ((e = load(s->dir, err, errsz)) == NULL)
        return -1;
    swap(s, e);
    return 1;
}

int scan_open(const char *sigdir, int64_t check_ms, struct scan **out, char *err, size_t errsz)
{
    struct scan *s = xcalloc(1, sizeof(*s));

    s->dir = xstrdup(sigdir);
    s->check_ms = check_ms;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->reload, NULL);
    *out = s;
    err[0] = 0;
    pthread_mutex_lock(&s->reload);
    int rc = reload(s, err, errsz);
    pthread_mutex_unlock(&s->reload);
    s->next_check_ms = check_ms > 0 ? timeutil_mono_ms() + check_ms : 0;
    return rc == 1 ? 0 : -1;
}

void scan_close(struct scan *s)
{
    if (s == NULL)
        return;
    engine_free(s->cur);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->reload);
    xfree(s->dir);
    xfree(s);
}

int scan_reload_if_changed(struct scan *s, char *err, size_t errsz)
{
    int rc;

    err[0] = 0;
    pthread_mutex_lock(&s->reload);
    rc = reload(s, err, errsz);
    pthread_mutex_unlock(&s->reload);
    return rc;
}

/* auto_check - the automatic change check, at most every check_ms, never waiting for a load */
static void auto_check(struct scan *s)
{
    int64_t now = timeutil_mono_ms();
    int due = 0;
    char err[SCAN_ERR_MAX];

    if (s->check_ms <= 0)
        return;
    pthread_mutex_lock(&s->lock);
    if (now >= s->next_check_ms) {
        s->next_check_ms = now + s->check_ms;
        due = 1;
    }
    pthread_mutex_unlock(&s->lock);
    if (!due || pthread_mutex_trylock(&s->reload) != 0)
        return;
    int rc = reload(s, err, sizeof(err));
    pthread_mutex_unlock(&s->reload);
    if (rc < 0)
        msg_warn("scan: signatures in %s not reloaded: %s", s->dir, err);
    else if (rc == 1)
        msg_info("scan: signatures in %s reloaded", s->dir);
}

struct scan_engine *scan_acquire(struct scan *s, char *err, size_t errsz)
{
    struct scan_engine *e;

    auto_check(s);
    pthread_mutex_lock(&s->lock);
    if ((e = s->cur) != NULL)
        e->refs++;
    pthread_mutex_unlock(&s->lock);
    if (e == NULL)
        snprintf(err, errsz, "no signatures loaded from %s", s->dir);
    return e;
}

void scan_release(struct scan *s, struct scan_engine *e)
{
    int last;

    if (e == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    last = drop(s, e);
    pthread_mutex_unlock(&s->lock);
    if (last)
        engine_free(e);
}

enum scan_verdict scan_engine_buffer(struct scan_engine *e, const void *buf, size_t len,
                                     struct scan_result *r)
{
    struct cl_scan_options opt;
    const char *virus = NULL;
    unsigned long scanned = 0;
    cl_fmap_t *map;
    cl_error_t rc;

    memset(r, 0, sizeof(*r));
    memset(&opt, 0, sizeof(opt));
    opt.parse = ~0u;
    opt.general = CL_SCAN_GENERAL_HEURISTICS;
    opt.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
    /* an empty map cannot be opened; nothing in it can match either */
    if (len == 0)
        return SCAN_CLEAN;
    if ((map = cl_fmap_open_memory(buf, len)) == NULL) {
        snprintf(r->err, sizeof(r->err), "cannot map %zu bytes for scanning", len);
        return SCAN_ERROR;
    }
    rc = cl_scanmap_callback(map, NULL, &virus, &scanned, e->cl, &opt, NULL);
    cl_fmap_close(map);
    if (rc == CL_CLEAN)
        return SCAN_CLEAN;
    if (rc == CL_VIRUS) {
        snprintf(r->virus, sizeof(r->virus), "%s", virus ? virus : "unnamed");
        return SCAN_INFECTED;
    }
    snprintf(r->err, sizeof(r->err), "scan failed: %s", cl_strerror(rc));
    return SCAN_ERROR;
}

enum scan_verdict scan_buffer(struct scan *s, const void *buf, size_t len, struct scan_result *r)
{
    struct scan_engine *e;
    enum scan_verdict v;

    memset(r, 0, sizeof(*r));
    if ((e = scan_acquire(s, r->err, sizeof(r->err))) == NULL)
        return SCAN_ERROR;
    v = scan_engine_buffer(e, buf, len, r);
    scan_release(s, e);
    return v;
}

unsigned scan_engine_signatures(const struct scan_engine *e)
{
    return e->sigs;
}

int scan_engines(struct scan *s)
{
    int n;

    pthread_mutex_lock(&s->lock);
    n = s->nengines;
    pthread_mutex_unlock(&s->lock);
    return n;
}
