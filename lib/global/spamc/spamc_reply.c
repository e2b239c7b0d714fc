/*
 * spamc_reply - the strict, bounded parser of spamd's answer to REPORT
 * (spamc.h). Pure: no allocation, no I/O, so the fuzz target
 * (tests/fuzz/spamc_fuzz.c) drives it directly.
 */
#include "global/spamc/spamc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* a line of [p, end): its length without CR LF in *ll, the next line's start */
static const char *next_line(const char *p, const char *end, size_t *ll)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;

    *ll = (size_t)(e - p);
    if (*ll > 0 && p[*ll - 1] == '\r')
        (*ll)--;
    return nl ? nl + 1 : end;
}

static size_t spaces(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i;
}

/*
 * number - [-]digits[.digits] at p (at most n bytes), at most 7 digits
 * before and 6 after the point: the length taken, 0 when there is none.
 */
static size_t number(const char *p, size_t n, double *out)
{
    char tmp[24];
    size_t i = 0, intd = 0, fracd = 0;

    if (i < n && p[i] == '-')
        i++;
    while (i < n && p[i] >= '0' && p[i] <= '9' && intd <= 7)
        i++, intd++;
    if (intd == 0 || intd > 7)
        return 0;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9' && fracd <= 6)
            i++, fracd++;
        if (fracd == 0 || fracd > 6)
            return 0;
    }
    memcpy(tmp, p, i);
    tmp[i] = 0;
    *out = strtod(tmp, NULL);
    if (!isfinite(*out) || fabs(*out) > SPAMC_SCORE_LIMIT)
        return 0;
    if (*out == 0)
        *out = 0; /* spamd's "-0.0" */
    return i;
}

/* copy_printable - n bytes of p into out as printable ASCII, cut to outsz-1 */
static void copy_printable(char *out, size_t outsz, const char *p, size_t n)
{
    size_t o = strlen(out);

    for (size_t i = 0; i < n && o + 1 < outsz; i++) {
        unsigned char c = (unsigned char)p[i];

        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : c == '\t' ? ' ' : '?';
    }
    out[o] = 0;
    while (o > 0 && out[o - 1] == ' ')
        out[--o] = 0;
}

/* status - "SPAMD/<d>.<d> 0 <text>": 0, else -1 */
static int status(const char *p, size_t n, char *err, size_t errsz)
{
    size_t i = 6, d;
    char shown[80] = "";

    if (n < 6 || memcmp(p, "SPAMD/", 6) != 0)
        goto bad;
    for (d = 0; i < n && p[i] >= '0' && p[i] <= '9' && d < 4; i++, d++)
        ;
    if (d == 0 || i >= n || p[i++] != '.')
        goto bad;
    for (d = 0; i < n && p[i] >= '0' && p[i] <= '9' && d < 4; i++, d++)
        ;
    if (d == 0 || i >= n || p[i++] != ' ')
        goto bad;
    if (i < n && p[i] == '0' && (i + 1 == n || p[i + 1] == ' '))
        return 0;
    copy_printable(shown, sizeof(shown), p, n);
    snprintf(err, errsz, "spamd failed: %s", shown);
    return -1;
bad:
    copy_printable(shown, sizeof(shown), p, n);
    snprintf(err, errsz, "not a spamd status line: %s", shown);
    return -1;
}

/* spam_header - "True ; 1000.0 / 5.0" */
static int spam_header(const char *p, size_t n, struct spamc_result *r)
{
    size_t i = spaces(p, n), k;

    if (n - i >= 4 && strncasecmp(p + i, "true", 4) == 0)
        r->is_spam = 1, i += 4;
    else if (n - i >= 5 && strncasecmp(p + i, "false", 5) == 0)
        r->is_spam = 0, i += 5;
    else if (n - i >= 3 && strncasecmp(p + i, "yes", 3) == 0)
        r->is_spam = 1, i += 3;
    else if (n - i >= 2 && strncasecmp(p + i, "no", 2) == 0)
        r->is_spam = 0, i += 2;
    else
        return -1;
    i += spaces(p + i, n - i);
    if (i >= n || p[i++] != ';')
        return -1;
    i += spaces(p + i, n - i);
    if ((k = number(p + i, n - i, &r->score)) == 0)
        return -1;
    i += k;
    i += spaces(p + i, n - i);
    if (i >= n || p[i++] != '/')
        return -1;
    i += spaces(p + i, n - i);
    if ((k = number(p + i, n - i, &r->required)) == 0)
        return -1;
    i += k;
    return i + spaces(p + i, n - i) == n ? 0 : -1;
}

/* rule_line - " 1.5 NAME   description" into a new rule; -1 when it is not one */
static int rule_line(const char *p, size_t n, struct spamc_result *r)
{
    size_t i = spaces(p, n), k, name0, namelen;
    double score;
    struct spamc_rule *ru;

    if ((k = number(p + i, n - i, &score)) == 0)
        return -1;
    i += k;
    if ((k = spaces(p + i, n - i)) == 0)
        return -1;
    i += k;
    name0 = i;
    while (i < n && (p[i] == '_' || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
                     (p[i] >= '0' && p[i] <= '9')))
        i++;
    namelen = i - name0;
    if (namelen == 0 || namelen >= SPAMC_NAME_MAX || (i < n && p[i] != ' ' && p[i] != '\t'))
        return -1;
    if (r->nrules >= SPAMC_RULES_MAX) {
        r->rules_dropped++;
        return 0;
    }
    ru = &r->rules[r->nrules++];
    memcpy(ru->name, p + name0, namelen);
    ru->name[namelen] = 0;
    ru->score = score;
    ru->description[0] = 0;
    i += spaces(p + i, n - i);
    copy_printable(ru->description, sizeof(ru->description), p + i, n - i);
    return 0;
}

/* continuation - an indented line adds to the last rule's description */
static void continuation(const char *p, size_t n, struct spamc_result *r)
{
    struct spamc_rule *ru;
    size_t i = spaces(p, n), o;

    if (r->nrules == 0 || r->rules_dropped || i == n)
        return;
    ru = &r->rules[r->nrules - 1];
    o = strlen(ru->description);
    if (o > 0 && o + 2 < sizeof(ru->description))
        ru->description[o] = ' ', ru->description[o + 1] = 0;
    copy_printable(ru->description, sizeof(ru->description), p + i, n - i);
}

/* table - the rules of the report's " pts rule name" table */
static void table(const char *p, const char *end, struct spamc_result *r)
{
    size_t ll, sp;
    int state = 0; /* 0: before the heading, 1: heading seen, 2: in the table */

    while (p < end) {
        const char *line = p;

        p = next_line(p, end, &ll);
        sp = spaces(line, ll);
        if (state == 0) {
            if (ll - sp >= 13 && memcmp(line + sp, "pts rule name", 13) == 0)
                state = 1;
        } else if (state == 1) {
            if (ll - sp < 4 || memcmp(line + sp, "----", 4) != 0)
                return;
            state = 2;
        } else if (sp == ll) {
            return; /* the empty line after the table */
        } else if (sp >= 5) {
            continuation(line, ll, r);
        } else if (rule_line(line, ll, r) < 0) {
            r->lines_skipped++;
        }
    }
}

int spamc_reply_parse(const char *buf, size_t len, struct spamc_result *r, char *err, size_t errsz)
{
    const char *p = buf, *end = buf + len;
    size_t ll;
    long long clen = -1;
    int have_spam = 0, nheaders = 0;

    memset(r, 0, sizeof(*r));
    if (buf == NULL || len == 0) {
        snprintf(err, errsz, "empty answer");
        return -1;
    }
    if (len > SPAMC_REPLY_MAX) {
        snprintf(err, errsz, "answer longer than %d bytes", SPAMC_REPLY_MAX);
        return -1;
    }
    p = next_line(p, end, &ll);
    if (ll > SPAMC_LINE_MAX) {
        snprintf(err, errsz, "status line longer than %d bytes", SPAMC_LINE_MAX);
        return -1;
    }
    if (status(buf, ll, err, errsz) < 0)
        return -1;
    for (;;) {
        const char *line = p;

        if (p >= end) {
            snprintf(err, errsz, "answer ends in its headers");
            return -1;
        }
        p = next_line(p, end, &ll);
        if (ll == 0)
            break;
        if (ll > SPAMC_LINE_MAX || ++nheaders > SPAMC_HEADERS_MAX) {
            snprintf(err, errsz, "header line too long or too many headers");
            return -1;
        }
        if (ll > 15 && strncasecmp(line, "Content-length:", 15) == 0) {
            size_t i = 15 + spaces(line + 15, ll - 15), d = 0;

            for (clen = 0; i < ll && line[i] >= '0' && line[i] <= '9' && d < 9; i++, d++)
                clen = clen * 10 + (line[i] - '0');
            if (d == 0 || i + spaces(line + i, ll - i) != ll) {
                snprintf(err, errsz, "bad Content-length header");
                return -1;
            }
        } else if (ll > 5 && strncasecmp(line, "Spam:", 5) == 0) {
            if (have_spam || spam_header(line + 5, ll - 5, r) < 0) {
                snprintf(err, errsz, "bad or repeated Spam header");
                return -1;
            }
            have_spam = 1;
        }
    }
    if (!have_spam) {
        snprintf(err, errsz, "answer without a Spam header");
        return -1;
    }
    if (clen >= 0 && clen != (long long)(end - p)) {
        snprintf(err, errsz, "answer of %lld bytes, Content-length says %lld", (long long)(end - p),
                 clen);
        return -1;
    }
    table(p, end, r);
    return 0;
}
