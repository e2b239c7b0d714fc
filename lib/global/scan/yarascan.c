/*
 * yarascan - YARA in the process; the manual is yarascan.h.
 *
 * The reference counting of scan.c: y->cur holds one reference, every
 * scan in flight one more, under y->lock; a reload compiles without the
 * lock and swaps; whoever drops the last reference frees the rule set.
 * One load at a time (y->reload, trylock for the automatic check).
 */
#include "global/scan/yarascan.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yara.h>

struct yarascan_rules {
    YR_RULES *rules;
    unsigned count;
    int refs; /* under the owning yarascan's lock */
};

struct yarascan {
    char *dir;
    int64_t check_ms;
    pthread_mutex_t lock; /* cur, refs, nengines, next_check_ms */
    struct yarascan_rules *cur;
    int nengines;
    int64_t next_check_ms;
    pthread_mutex_t reload; /* one load at a time; print */
    uint64_t print;
    int printed;
};

static pthread_once_t yara_once = PTHREAD_ONCE_INIT;
static int yara_init_rc;

static void init_once(void)
{
    yara_init_rc = yr_initialize();
}

/* compile_err - the first compile error into the caller's buffer */
struct compile_err {
    char *err;
    size_t errsz;
    int n;
};

static void on_compile(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                       void *ctx)
{
    struct compile_err *ce = ctx;

    (void)rule;
    if (level != YARA_ERROR_LEVEL_ERROR || ce->n++ > 0)
        return;
    snprintf(ce->err, ce->errsz, "%s:%d: %s", file ? file : "?", line, msg ? msg : "error");
}

static int is_rule_file(const char *name)
{
    size_t n = strlen(name);

    if (name[0] == '.')
        return 0;
    return (n > 4 && strcmp(name + n - 4, ".yar") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".yara") == 0);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* add_files - every rule file of dir into c, in name order; the count, -1 with err */
static int add_files(YR_COMPILER *c, const char *dir, struct compile_err *ce)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL, path[4096];
    size_t n = 0, cap = 0;
    int rc = 0;

    if (d == NULL) {
        snprintf(ce->err, ce->errsz, "rule directory %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (!is_rule_file(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n && rc >= 0; i++) {
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if ((f = fopen(path, "r")) == NULL) {
            snprintf(ce->err, ce->errsz, "%s: %s", path, strerror(errno));
            rc = -1;
        } else {
            if (yr_compiler_add_file(c, f, NULL, path) > 0)
                rc = -1;
            else
                rc++;
            fclose(f);
        }
    }
    for (size_t i = 0; i < n; i++)
        xfree(names[i]);
    xfree(names);
    return rc;
}

/* load - the compiled rules of dir; NULL with err */
static struct yarascan_rules *load(const char *dir, char *err, size_t errsz)
{
    struct compile_err ce = {err, errsz, 0};
    YR_COMPILER *c = NULL;
    YR_RULES *rules = NULL;
    YR_RULES_STATS st;
    struct yarascan_rules *r = NULL;
    int files;

    pthread_once(&yara_once, init_once);
    if (yara_init_rc != ERROR_SUCCESS) {
        snprintf(err, errsz, "yr_initialize failed (%d)", yara_init_rc);
        return NULL;
    }
    if (yr_compiler_create(&c) != ERROR_SUCCESS) {
        snprintf(err, errsz, "yr_compiler_create failed");
        return NULL;
    }
    yr_compiler_set_callback(c, on_compile, &ce);
    if ((files = add_files(c, dir, &ce)) < 0)
        goto out;
    if (files == 0) {
        snprintf(err, errsz, "no rule files (*.yar, *.yara) in %s", dir);
        goto out;
    }
    if (yr_compiler_get_rules(c, &rules) != ERROR_SUCCESS) {
        snprintf(err, errsz, "cannot build the rules of %s", dir);
        goto out;
    }
    if (yr_rules_get_stats(rules, &st) != ERROR_SUCCESS || st.num_rules == 0) {
        snprintf(err, errsz, "no rules in %s", dir);
        yr_rules_destroy(rules);
        goto out;
    }
    r = xcalloc(1, sizeof(*r));
    r->rules = rules;
    r->count = st.num_rules;
    r->refs = 1;
out:
    yr_compiler_destroy(c);
    return r;
}

static void rules_free(struct yarascan_rules *r)
{
    if (r == NULL)
        return;
    yr_rules_destroy(r->rules);
    xfree(r);
}

/* drop - one reference less (y->lock held); 1 when it was the last */
static int drop(struct yarascan *y, struct yarascan_rules *r)
{
    if (--r->refs > 0)
        return 0;
    y->nengines--;
    return 1;
}

static void swap(struct yarascan *y, struct yarascan_rules *r)
{
    struct yarascan_rules *old;
    int last = 0;

    pthread_mutex_lock(&y->lock);
    old = y->cur;
    y->cur = r;
    y->nengines++;
    if (old)
        last = drop(y, old);
    pthread_mutex_unlock(&y->lock);
    if (last)
        rules_free(old);
}

/* reload - with y->reload held */
static int reload(struct yarascan *y, char *err, size_t errsz)
{
    uint64_t print = scan_dir_fingerprint(y->dir);
    struct yarascan_rules *r;

    if (y->printed && print == y->print)
        return 0;
    y->print = print;
    y->printed = 1;
    if ((r = load(y->dir, err, errsz)) == NULL)
        return -1;
    swap(y, r);
    return 1;
}

int yarascan_open(const char *dir, int64_t check_ms, struct yarascan **out, char *err, size_t errsz)
{
    struct yarascan *y = xcalloc(1, sizeof(*y));
    int rc;

    y->dir = xstrdup(dir);
    y->check_ms = check_ms;
    pthread_mutex_init(&y->lock, NULL);
    pthread_mutex_init(&y->reload, NULL);
    *out = y;
    err[0] = 0;
    pthread_mutex_lock(&y->reload);
    rc = reload(y, err, errsz);
    pthread_mutex_unlock(&y->reload);
    y->next_check_ms = check_ms > 0 ? timeutil_mono_ms() + check_ms : 0;
    return rc == 1 ? 0 : -1;
}

void yarascan_close(struct yarascan *y)
{
    if (y == NULL)
        return;
    rules_free(y->cur);
    pthread_mutex_destroy(&y->lock);
    pthread_mutex_destroy(&y->reload);
    xfree(y->dir);
    xfree(y);
}

int yarascan_reload_if_changed(struct yarascan *y, char *err, size_t errsz)
{
    int rc;

    err[0] = 0;
    pthread_mutex_lock(&y->reload);
    rc = reload(y, err, errsz);
    pthread_mutex_unlock(&y->reload);
    return rc;
}

static void auto_check(struct yarascan *y)
{
    int64_t now = timeutil_mono_ms();
    int due = 0;
    char err[SCAN_ERR_MAX];

    if (y->check_ms <= 0)
        return;
    pthread_mutex_lock(&y->lock);
    if (now >= y->next_check_ms) {
        y->next_check_ms = now + y->check_ms;
        due = 1;
    }
    pthread_mutex_unlock(&y->lock);
    if (!due || pthread_mutex_trylock(&y->reload) != 0)
        return;
    int rc = reload(y, err, sizeof(err));
    pthread_mutex_unlock(&y->reload);
    if (rc < 0)
        msg_warn("yara: rules in %s not reloaded: %s", y->dir, err);
    else if (rc == 1)
        msg_info("yara: rules in %s reloaded", y->dir);
}

struct yarascan_rules *yarascan_acquire(struct yarascan *y, char *err, size_t errsz)
{
    struct yarascan_rules *r;

    auto_check(y);
    pthread_mutex_lock(&y->lock);
    if ((r = y->cur) != NULL)
        r->refs++;
    pthread_mutex_unlock(&y->lock);
    if (r == NULL)
        snprintf(err, errsz, "no YARA rules loaded from %s", y->dir);
    return r;
}

void yarascan_release(struct yarascan *y, struct yarascan_rules *r)
{
    int last;

    if (r == NULL)
        return;
    pthread_mutex_lock(&y->lock);
    last = drop(y, r);
    pthread_mutex_unlock(&y->lock);
    if (last)
        rules_free(r);
}

/* on_scan - the first matching rule's name, then stop */
static int on_scan(YR_SCAN_CONTEXT *ctx, int message, void *data, void *user)
{
    struct scan_result *res = user;

    (void)ctx;
    if (message != CALLBACK_MSG_RULE_MATCHING)
        return CALLBACK_CONTINUE;
    snprintf(res->virus, sizeof(res->virus), "YARA.%s", ((YR_RULE *)data)->identifier);
    return CALLBACK_ABORT;
}

enum scan_verdict yarascan_rules_buffer(struct yarascan_rules *r, const void *buf, size_t len,
                                        struct scan_result *res)
{
    int rc;

    memset(res, 0, sizeof(*res));
    if (len == 0)
        return SCAN_CLEAN;
    rc = yr_rules_scan_mem(r->rules, buf, len, SCAN_FLAGS_FAST_MODE, on_scan, res,
                           YARASCAN_TIMEOUT_S);
    if (rc != ERROR_SUCCESS) {
        snprintf(res->err, sizeof(res->err), "YARA scan failed (error %d%s)", rc,
                 rc == ERROR_SCAN_TIMEOUT ? ": timeout" : "");
        res->virus[0] = 0;
        return SCAN_ERROR;
    }
    return res->virus[0] ? SCAN_INFECTED : SCAN_CLEAN;
}

unsigned yarascan_rules_count(const struct yarascan_rules *r)
{
    return r->count;
}

int yarascan_engines(struct yarascan *y)
{
    int n;

    pthread_mutex_lock(&y->lock);
    n = y->nengines;
    pthread_mutex_unlock(&y->lock);
    return n;
}
