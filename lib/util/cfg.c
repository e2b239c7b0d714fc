/* cfg - configuration file and typed parameter tables; see cfg.h. */
#include "util/cfg.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_LINE_MAX 8192
#define CFG_SECRET_MAX 65536

static struct cfg_param *find(struct cfg_param **tables, const char *name)
{
    for (int t = 0; tables[t]; t++)
        for (struct cfg_param *p = tables[t]; p->name; p++)
            if (strcmp(p->name, name) == 0)
                return p;
    return NULL;
}

static int foreign_name(const char *const *foreign, const char *name)
{
    if (foreign == NULL)
        return 0;
    for (int i = 0; foreign[i]; i++) {
        size_t n = strlen(foreign[i]);

        if (strncmp(name, foreign[i], n) == 0 && name[n] == '_')
            return 1;
    }
    return 0;
}

int cfg_parse_size(const char *s, long long *out)
{
    char *end;
    long long v, mult = 1;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return -1;
    if (*end == 'k' || *end == 'K')
        mult = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mult = 1024LL * 1024 * 1024, end++;
    if (*end || v > INT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

/*
 * read_secret - the content of path, trailing white space removed.
 *
 * Like ssh with a private key, a secret file that others could read is
 * refused: it must be a regular file owned by the running user or root,
 * with no permission for group or others (0600 or 0400). The checks are
 * made on the opened file (fstat), so the file checked is the file read.
 */
static char *read_secret(const char *path, char *err, int errsz)
{
    struct stat st;
    FILE *fp;
    char *data;
    size_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        snprintf(err, errsz, "cannot open secret file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errsz, "cannot stat secret file %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "secret file %s is not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        snprintf(err, errsz,
                 "secret file %s is owned by uid %lu, not by the running user "
                 "(uid %lu) or root",
                 path, (unsigned long)st.st_uid, (unsigned long)geteuid());
        close(fd);
        return NULL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errsz,
                 "secret file %s is accessible by group or others (mode %04o): "
                 "chmod 600 it",
                 path, (unsigned)(st.st_mode & 07777));
        close(fd);
        return NULL;
    }
    if ((fp = fdopen(fd, "r")) == NULL) {
        snprintf(err, errsz, "cannot read secret file %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    data = xmalloc(CFG_SECRET_MAX + 1);
    n = fread(data, 1, CFG_SECRET_MAX + 1, fp);
    fclose(fp);
    if (n > CFG_SECRET_MAX) {
        xwipefree(data, CFG_SECRET_MAX + 1);
        snprintf(err, errsz, "secret file %s is too large", path);
        return NULL;
    }
    while (n > 0 && isspace((unsigned char)data[n - 1]))
        n--;
    data[n] = 0;
    return data;
}

/* set_value - convert text into the parameter's type; -1 with err */
static int set_value(struct cfg_param *p, const char *val, char *err, int errsz)
{
    long long v;
    int64_t ms;

    switch (p->type) {
    case CFG_STR: {
        char *s;

        if (p->flags & CFG_SECRET_FILE) {
            if (*val == 0) {
                s = xstrdup("");
            } else if ((s = read_secret(val, err, errsz)) == NULL) {
                return -1;
            }
        } else {
            s = xstrdup(val);
        }
        char **dst = p->ptr;
        if (p->flags & CFG_SECRET_FILE)
            xwipestr(*dst);
        else
            xfree(*dst);
        *dst = s;
        return 0;
    }
    case CFG_BOOL:
        if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0 || strcmp(val, "1") == 0 ||
            strcmp(val, "on") == 0)
            *(int *)p->ptr = 1;
        else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0 || strcmp(val, "0") == 0 ||
                 strcmp(val, "off") == 0)
            *(int *)p->ptr = 0;
        else {
            snprintf(err, errsz, "%s: expected yes or no, got \"%s\"", p->name, val);
            return -1;
        }
        return 0;
    case CFG_INT: {
        char *end;

        errno = 0;
        v = strtoll(val, &end, 10);
        if (end == val || *end || errno) {
            snprintf(err, errsz, "%s: expected an integer, got \"%s\"", p->name, val);
            return -1;
        }
        break;
    }
    case CFG_TIME:
        if (timeutil_parse_duration(val, &ms) < 0) {
            snprintf(err, errsz,
                     "%s: expected a duration (e.g. 500ms, 10s, 5m, 2h, 2d), "
                     "got \"%s\"",
                     p->name, val);
            return -1;
        }
        v = ms;
        break;
    case CFG_SIZE:
        if (cfg_parse_size(val, &v) < 0) {
            snprintf(err, errsz, "%s: expected a size (e.g. 512k, 20m), got \"%s\"", p->name, val);
            return -1;
        }
        break;
    default:
        msg_panic("cfg: bad type for %s", p->name);
    }
    if ((p->min || p->max) && (v < p->min || v > p->max)) {
        snprintf(err, errsz, "%s: value %s out of range [%lld, %lld]", p->name, val, p->min,
                 p->max);
        return -1;
    }
    if (p->type == CFG_INT)
        *(long long *)p->ptr = v;
    else if (p->type == CFG_TIME)
        *(int64_t *)p->ptr = v;
    else
        *(size_t *)p->ptr = (size_t)v;
    return 0;
}

/* trim - strip leading and trailing white space in place */
static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int apply(struct cfg_param **tables, const char *const *foreign, const char *name,
                 const char *val, const char *origin, char *err, int errsz)
{
    struct cfg_param *p = find(tables, name);
    char detail[512];

    if (p == NULL) {
        if (foreign_name(foreign, name))
            return 0;
        snprintf(err, errsz, "%s: unknown parameter \"%s\"", origin, name);
        return -1;
    }
    if (set_value(p, val, detail, sizeof(detail)) < 0) {
        snprintf(err, errsz, "%s: %s", origin, detail);
        return -1;
    }
    p->set = 1;
    xfree(p->origin);
    p->origin = xstrdup(origin);
    return 0;
}

static int load_defaults(struct cfg_param **tables, char *err, int errsz)
{
    for (int t = 0; tables[t]; t++)
        for (struct cfg_param *p = tables[t]; p->name; p++) {
            p->set = 0;
            if (p->type == CFG_STR && (p->flags & CFG_SECRET_FILE) && p->def && *p->def == 0) {
                char **dst = p->ptr;
                xwipestr(*dst);
                *dst = xstrdup("");
                continue;
            }
            if (set_value(p, p->def ? p->def : "", err, errsz) < 0)
                msg_panic("cfg: bad default for %s: %s", p->name, err);
        }
    return 0;
}

int cfg_check(const char *path, struct cfg_param **tables, const char *const *foreign,
              char **overrides, int n, char *err, int errsz)
{
    char line[CFG_LINE_MAX + 2];
    char origin[1100];
    FILE *fp = NULL;
    int lineno = 0, rc = -1;

    load_defaults(tables, err, errsz);
    if (path && *path) {
        if ((fp = fopen(path, "r")) == NULL) {
            snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        while (fgets(line, sizeof(line), fp)) {
            char *s, *eq, *name, *val;

            lineno++;
            snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
            if (strchr(line, '\n') == NULL && !feof(fp)) {
                snprintf(err, errsz, "%s: line too long", origin);
                goto out;
            }
            s = trim(line);
            if (*s == 0 || *s == '#')
                continue;
            if ((eq = strchr(s, '=')) == NULL) {
                snprintf(err, errsz, "%s: expected \"name = value\"", origin);
                goto out;
            }
            *eq = 0;
            name = trim(s);
            val = trim(eq + 1);
            if (*name == 0) {
                snprintf(err, errsz, "%s: missing parameter name", origin);
                goto out;
            }
            if (apply(tables, foreign, name, val, origin, err, errsz) < 0)
                goto out;
        }
    }
    for (int i = 0; i < n; i++) {
        char *copy = xstrdup(overrides[i]), *eq = strchr(copy, '=');

        if (eq == NULL) {
            snprintf(err, errsz, "-o %s: expected name=value", overrides[i]);
            xfree(copy);
            goto out;
        }
        *eq = 0;
        int r = apply(tables, NULL, trim(copy), trim(eq + 1), "-o", err, errsz);
        xfree(copy);
        if (r < 0)
            goto out;
    }
    rc = 0;
out:
    if (fp)
        fclose(fp);
    return rc;
}

void cfg_load(const char *path, struct cfg_param **tables, const char *const *foreign,
              char **overrides, int n)
{
    char err[1400];

    if (cfg_check(path, tables, foreign, overrides, n, err, sizeof(err)) < 0)
        msg_fatal("%s", err);
}

void cfg_print_nondefault(struct cfg_param **tables)
{
    for (int t = 0; tables[t]; t++)
        for (struct cfg_param *p = tables[t]; p->name; p++) {
            if (!p->set)
                continue;
            switch (p->type) {
            case CFG_STR:
                if (p->flags & CFG_SECRET_FILE)
                    printf("%s = (secret, %zu bytes)\n", p->name, strlen(*(char **)p->ptr));
                else
                    printf("%s = %s\n", p->name, *(char **)p->ptr);
                break;
            case CFG_BOOL:
                printf("%s = %s\n", p->name, *(int *)p->ptr ? "yes" : "no");
                break;
            case CFG_INT:
                printf("%s = %lld\n", p->name, *(long long *)p->ptr);
                break;
            case CFG_TIME:
                printf("%s = %lldms\n", p->name, (long long)*(int64_t *)p->ptr);
                break;
            case CFG_SIZE:
                printf("%s = %zu\n", p->name, *(size_t *)p->ptr);
                break;
            }
        }
}

void cfg_free(struct cfg_param **tables)
{
    for (int t = 0; tables[t]; t++)
        for (struct cfg_param *p = tables[t]; p->name; p++) {
            if (p->type == CFG_STR) {
                char **dst = p->ptr;

                if (p->flags & CFG_SECRET_FILE)
                    xwipestr(*dst);
                else
                    xfree(*dst);
                *dst = NULL;
            }
            xfree(p->origin);
            p->origin = NULL;
        }
}
