/*
 * exporter_merge - merge Prometheus text expositions (format 0.0.4) of
 * several processes into one: one HELP and TYPE per family, the samples
 * of a family together, every sample labelled with program and pid, no
 * series twice. The input is checked line by line; what does not parse
 * is rejected, never passed on, so one bad file cannot spoil a scrape:
 * the type of a family is the one most files declare (exporter_merge_vote
 * over every file first), and a file that declares another loses its
 * samples of that family, not the others theirs.
 */
#include "exporter.h"
#include "util/mymalloc.h"
#include "util/ttlcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096
#define FILE_TYPES_MAX 256
#define TYPE_CONFLICT "!" /* file_types: a TYPE that contradicts the set's */

/* the TYPE lines of the file being merged */
struct file_types {
    char name[FILE_TYPES_MAX][128];
    char type[FILE_TYPES_MAX][16];
    int n;
};

static const struct ttlcache_type presence = {0, NULL, NULL};
static const char *const types[EXPORTER_TYPES] = {"counter", "gauge", "histogram", "summary",
                                                  "untyped"};

struct exporter_set *exporter_merge_create(void)
{
    struct exporter_set *s = xcalloc(1, sizeof(*s));

    s->series = ttlcache_create(&presence, EXPORTER_MAX_SERIES, 0);
    return s;
}

void exporter_merge_free(struct exporter_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        xfree(s->fam[i].help);
        buf_free(&s->fam[i].samples);
    }
    xfree(s->fam);
    ttlcache_free(s->series);
    xfree(s);
}

static int name_char(int c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* metric_name - length of the metric name at p (0: none) */
static size_t metric_name(const char *p)
{
    size_t n = 0;

    while (name_char((unsigned char)p[n], n == 0))
        n++;
    return n < 128 ? n : 0;
}

static struct exporter_family *family_find(struct exporter_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->fam[i].name, name) == 0)
            return &s->fam[i];
    return NULL;
}

static struct exporter_family *family_add(struct exporter_set *s, const char *name,
                                          const char *type)
{
    struct exporter_family *f = family_find(s, name);

    if (f != NULL || s->n == EXPORTER_MAX_FAMILIES)
        return f;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->fam = xrealloc(s->fam, s->cap * sizeof(*s->fam));
    }
    f = &s->fam[s->n++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(f->type, sizeof(f->type), "%s", type);
    buf_init(&f->samples, 64 << 20);
    return f;
}

/* voted - 1 when some file declared the family's type (exporter_merge_vote) */
static int voted(const struct exporter_family *f)
{
    for (int i = 0; i < EXPORTER_TYPES; i++)
        if (f->votes[i])
            return 1;
    return 0;
}

static const char *file_type(const struct file_types *ft, const char *name)
{
    for (int i = 0; i < ft->n; i++)
        if (strcmp(ft->name[i], name) == 0)
            return ft->type[i];
    return NULL;
}

/* comment - "# TYPE name type" or "# HELP name text"; other comments are ignored. 0 or -1 */
static int comment(struct exporter_set *s, struct file_types *ft, const char *line)
{
    int help = strncmp(line, "# HELP ", 7) == 0, type = strncmp(line, "# TYPE ", 7) == 0;
    const char *p = line + 7;
    size_t n = metric_name(p);
    char name[128];

    if (!help && !type)
        return 0;
    if (n == 0 || (p[n] != ' ' && p[n] != 0))
        return -1;
    snprintf(name, sizeof(name), "%.*s", (int)n, p);
    p += n + (p[n] == ' ');
    if (help) {
        struct exporter_family *f = family_find(s, name);
        if (f != NULL && f->help == NULL)
            f->help = xstrdup(p);
        return 0;
    }
    for (size_t i = 0; i < EXPORTER_TYPES; i++)
        if (strcmp(p, types[i]) == 0) {
            struct exporter_family *f = family_add(s, name, p);
            if (f != NULL && strcmp(f->type, "untyped") == 0 && !voted(f))
                snprintf(f->type, sizeof(f->type), "%s", p); /* samples came first, untyped */
            if (f == NULL || file_type(ft, name) != NULL || ft->n == FILE_TYPES_MAX)
                return -1; /* a second TYPE in this file, or too many */
            snprintf(ft->name[ft->n], sizeof(ft->name[0]), "%s", name);
            /* another type than the set's: this file's samples of it are rejected */
            snprintf(ft->type[ft->n++], sizeof(ft->type[0]), "%s",
                     strcmp(f->type, p) == 0 ? p : TYPE_CONFLICT);
            return strcmp(f->type, p) == 0 ? 0 : -1;
        }
    return -1;
}

/* family_of - the family of sample name (a histogram's _bucket joins its base) */
static struct exporter_family *family_of(struct exporter_set *s, const struct file_types *ft,
                                         const char *name)
{
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    size_t len = strlen(name);
    const char *t;
    char base[128];

    if ((t = file_type(ft, name)) != NULL)
        return strcmp(t, TYPE_CONFLICT) ? family_find(s, name) : NULL;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t sl = strlen(suffixes[i]);
        if (len <= sl || strcmp(name + len - sl, suffixes[i]) != 0)
            continue;
        snprintf(base, sizeof(base), "%.*s", (int)(len - sl), name);
        t = file_type(ft, base);
        if (t && strcmp(t, TYPE_CONFLICT) == 0)
            return NULL;
        if (t && (strcmp(t, "histogram") == 0 || (i > 0 && strcmp(t, "summary") == 0)))
            return family_find(s, base);
    }
    /* no TYPE in this file: the set's family of that name, else untyped */
    return family_add(s, name, "untyped");
}

/* label_value - skip a quoted label value at p (escapes \\ \" \n); its end, or NULL */
static const char *label_value(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (; *p && *p != '"'; p++)
        if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
            p++;
        else if (*p == '\\')
            return NULL;
    return *p == '"' ? p + 1 : NULL;
}

/*
 * labels - parse "{a="x",...}" at *pp into out as the merged label list:
 * program (the sample's, else program), pid, then the others in order.
 * -1 when malformed.
 */
static int labels(const char **pp, struct buf *out, const char *program, long pid)
{
    const char *p = *pp;
    struct buf rest = BUF_INIT(LINE_MAX_LEN);
    const char *prog_at = NULL;
    size_t prog_len = 0;
    int rc = -1;

    if (*p == '{') {
        p++;
        while (*p != '}') {
            size_t n = metric_name(p);
            const char *v, *e;
            if (n == 0 || memchr(p, ':', n) || p[n] != '=' ||
                (e = label_value(v = p + n + 1)) == NULL)
                goto out;
            if (n == 7 && strncmp(p, "program", 7) == 0) {
                prog_at = v;
                prog_len = (size_t)(e - v);
            } else if (!(n == 3 && strncmp(p, "pid", 3) == 0)) {
                buf_printf(&rest, ",%.*s", (int)(e - p), p);
            }
            p = e;
            if (*p == ',')
                p++;
            else if (*p != '}')
                goto out;
        }
        p++;
    }
    if (prog_at)
        buf_printf(out, "{program=%.*s", (int)prog_len, prog_at);
    else
        buf_printf(out, "{program=\"%s\"", program);
    buf_printf(out, ",pid=\"%ld\"%s}", pid, buf_ptr(&rest));
    *pp = p;
    rc = buf_error(out) || buf_error(&rest) ? -1 : 0;
out:
    buf_free(&rest);
    return rc;
}

/* value - " value[ timestamp]" at p: a float (or +Inf, -Inf, NaN) and an integer */
static int value(const char *p)
{
    char *end;

    if (*p != ' ' && *p != '\t')
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == 0)
        return -1;
    (void)strtod(p, &end);
    if (end == p)
        return -1;
    p = end;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == 0)
        return 0;
    (void)strtoll(p, &end, 10);
    return end != p && *end == 0 ? 0 : -1;
}

/* sample - one sample line into its family. 0 taken or a duplicate, -1 rejected */
static int sample(struct exporter_set *s, const struct file_types *ft, const char *line,
                  const char *program, long pid)
{
    size_t n = metric_name(line);
    char name[128];
    const char *p = line + n;
    struct buf series = BUF_INIT(LINE_MAX_LEN);
    struct exporter_family *f;
    int rc = -1;

    if (n == 0)
        goto out;
    snprintf(name, sizeof(name), "%.*s", (int)n, line);
    buf_puts(&series, name);
    if (labels(&p, &series, program, pid) < 0 || value(p) < 0)
        goto out;
    if ((f = family_of(s, ft, name)) == NULL)
        goto out;
    rc = 0;
    if (ttlcache_get(s->series, buf_ptr(&series), NULL)) {
        s->duplicates++;
        goto out;
    }
    if (s->samples >= EXPORTER_MAX_SERIES) {
        rc = -1;
        goto out;
    }
    ttlcache_put(s->series, buf_ptr(&series), NULL, INT64_MAX);
    buf_printf(&f->samples, "%s%s\n", buf_ptr(&series), p);
    s->samples++;
out:
    buf_free(&series);
    return rc;
}

void exporter_merge_vote(struct exporter_set *s, const char *text, size_t len)
{
    size_t pos = 0;

    while (pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - line) : len - pos, n;
        char name[128];
        pos += l + 1;
        if (l < 8 || strncmp(line, "# TYPE ", 7) != 0 || (n = metric_name(line + 7)) == 0 ||
            line[7 + n] != ' ')
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)n, line + 7);
        for (int i = 0; i < EXPORTER_TYPES; i++) {
            size_t tl = strlen(types[i]);
            struct exporter_family *f;
            if (l - 8 - n != tl || strncmp(line + 8 + n, types[i], tl) != 0)
                continue;
            if ((f = family_add(s, name, "untyped")) != NULL)
                f->votes[i]++;
        }
    }
}

void exporter_merge_decide(struct exporter_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct exporter_family *f = &s->fam[i];
        int best = EXPORTER_TYPES - 1;
        for (int k = EXPORTER_TYPES - 2; k >= 0; k--)
            if (f->votes[k] > 0 && f->votes[k] >= f->votes[best])
                best = k;
        snprintf(f->type, sizeof(f->type), "%s", types[best]);
    }
}

long long exporter_merge_text(struct exporter_set *s, const char *text, size_t len,
                              const char *program, long pid)
{
    struct file_types *ft = xcalloc(1, sizeof(*ft));
    char line[LINE_MAX_LEN];
    long long bad = 0;
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos, next = pos + l + 1;
        int rc = 0;
        if (l >= sizeof(line) || memchr(text + pos, 0, l)) {
            rc = -1;
        } else {
            memcpy(line, text + pos, l);
            line[l] = 0;
            if (l && line[l - 1] == '\r')
                line[--l] = 0;
            if (line[0] == '#')
                rc = comment(s, ft, line);
            else if (line[0] != 0)
                rc = sample(s, ft, line, program, pid);
        }
        bad += rc < 0;
        pos = next;
        if (nl == NULL)
            break;
    }
    s->rejected += bad;
    xfree(ft);
    return bad;
}

static int fam_cmp(const void *a, const void *b)
{
    return strcmp(((const struct exporter_family *)a)->name,
                  ((const struct exporter_family *)b)->name);
}

void exporter_merge_render(const struct exporter_set *s, struct buf *out)
{
    struct exporter_family *sorted = xcalloc(s->n + 1, sizeof(*sorted));

    memcpy(sorted, s->fam, s->n * sizeof(*sorted));
    qsort(sorted, s->n, sizeof(*sorted), fam_cmp);
    for (size_t i = 0; i < s->n; i++) {
        const struct exporter_family *f = &sorted[i];
        if (f->samples.len == 0)
            continue;
        if (f->help)
            buf_printf(out, "# HELP %s %s\n", f->name, f->help);
        buf_printf(out, "# TYPE %s %s\n", f->name, f->type);
        buf_append(out, buf_ptr(&f->samples), f->samples.len);
    }
    xfree(sorted);
}
