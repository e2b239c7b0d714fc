/*
 * bounce_scan - the small text scanners of the bounce parser: addresses,
 * status and reply codes, header fields, bounded copies.
 *
 * Everything works on a pointer and a length (the text is not trusted to
 * be NUL-terminated where it is cut) and writes into fixed buffers,
 * truncating at a UTF-8 character boundary.
 */
#include "bounce_int.h"
#include "util/mymalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* bounce_rec_add - a fresh record at the end of r, NULL when the limit is reached */
struct bounce_rec *bounce_rec_add(struct bounce_report *r)
{
    if (r->nrecs >= BOUNCE_MAX_RECS)
        return NULL;
    r->recs = xrealloc(r->recs, (size_t)(r->nrecs + 1) * sizeof(*r->recs));
    memset(&r->recs[r->nrecs], 0, sizeof(*r->recs));
    r->recs[r->nrecs].hard = -1;
    return &r->recs[r->nrecs++];
}

/* cut - the longest prefix of s[0..n) that fits sz-1 bytes and ends on a character */
static size_t cut(const char *s, size_t n, size_t sz)
{
    if (n < sz)
        return n;
    n = sz - 1;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* bounce_scan_append - append src[0..n) to dst, whitespace collapsed, a space between */
void bounce_scan_append(char *dst, size_t sz, const char *src, size_t n)
{
    size_t o = strlen(dst);
    char tmp[1024];
    size_t t = 0;
    int sp = o > 0;

    for (size_t i = 0; i < n && t < sizeof(tmp) - 1; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == 0)
            break;
        if (isspace(c)) {
            sp = t > 0 || o > 0;
            continue;
        }
        if (sp && t < sizeof(tmp) - 2)
            tmp[t++] = ' ';
        sp = 0;
        tmp[t++] = (char)c;
    }
    if (t == 0 || o + 1 >= sz)
        return;
    t = cut(tmp, t, sz - o);
    memcpy(dst + o, tmp, t);
    dst[o + t] = 0;
}

/* bounce_scan_set - dst = src, cut at a character boundary to fit */
void bounce_scan_set(char *dst, size_t sz, const char *src)
{
    size_t n = cut(src, strlen(src), sz);

    if (sz == 0)
        return;
    memmove(dst, src, n);
    dst[n] = 0;
}

/* bounce_scan_copy - dst = src[0..n), whitespace collapsed and trimmed */
void bounce_scan_copy(char *dst, size_t sz, const char *src, size_t n)
{
    if (sz == 0)
        return;
    dst[0] = 0;
    bounce_scan_append(dst, sz, src, n);
}

static int local_char(int c)
{
    return isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL) || c >= 0x80;
}

static int domain_char(int c)
{
    return isalnum(c) || c == '.' || c == '-' || c == '_' || c >= 0x80;
}

/*
 * bounce_scan_addr - the first mailbox address in s[0..n) into out
 * (domain lowercased); *end (may be NULL) is the offset after it.
 * 1 found, 0 none.
 */
int bounce_scan_addr(const char *s, size_t n, char *out, size_t sz, size_t *end)
{
    for (size_t at = 0; at < n; at++) {
        if (s[at] != '@')
            continue;
        size_t a = at, b = at + 1;
        while (a > 0 && local_char((unsigned char)s[a - 1]))
            a--;
        while (a < at && s[a] == '.')
            a++;
        while (b < n && domain_char((unsigned char)s[b]))
            b++;
        while (b > at + 1 && (s[b - 1] == '.' || s[b - 1] == '-'))
            b--;
        if (a == at || b == at + 1 || memchr(s + at + 1, '.', b - at - 1) == NULL || b - a >= sz ||
            b - a > 254)
            continue;
        memcpy(out, s + a, b - a);
        out[b - a] = 0;
        for (size_t i = at - a; out[i]; i++)
            out[i] = (char)tolower((unsigned char)out[i]);
        if (end)
            *end = b;
        return 1;
    }
    return 0;
}

/* bounce_scan_find - case-insensitive search of needle in hay[0..n) */
const char *bounce_scan_find(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    if (k == 0)
        return hay;
    for (size_t i = 0; i + k <= n; i++)
        if (tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[0]) &&
            strncasecmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

/* bounce_scan_line - the line at p: *len without its end; returns the next line */
const char *bounce_scan_line(const char *p, const char *end, size_t *len)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;

    *len = (size_t)(e - p);
    if (*len > 0 && p[*len - 1] == '\r')
        (*len)--;
    return nl ? nl + 1 : end;
}

/*
 * bounce_scan_hdr - the value of field name in the header block (up to
 * its first empty line), continuation lines unfolded, into out. 1 found.
 */
int bounce_scan_hdr(const char *block, const char *name, char *out, size_t sz)
{
    const char *p = block, *end = block + strlen(block);
    size_t k = strlen(name), len;

    out[0] = 0;
    while (p < end) {
        const char *next = bounce_scan_line(p, end, &len);
        if (len == 0)
            return 0;
        if (len > k && strncasecmp(p, name, k) == 0) {
            size_t i = k;
            while (i < len && (p[i] == ' ' || p[i] == '\t'))
                i++;
            if (i < len && p[i] == ':') {
                bounce_scan_copy(out, sz, p + i + 1, len - i - 1);
                while (next < end && (*next == ' ' || *next == '\t')) {
                    const char *n2 = bounce_scan_line(next, end, &len);
                    bounce_scan_append(out, sz, next, len);
                    next = n2;
                }
                return 1;
            }
        }
        p = next;
    }
    return 0;
}

/* the reply codes of RFC 5321 and its extensions; others are not taken for one */
static const int reply_codes[] = {
    211, 214, 220, 221, 235, 250, 251, 252, 253, 421, 422, 430, 432, 450, 451,
    452, 453, 454, 455, 458, 459, 500, 501, 502, 503, 504, 521, 523, 524, 530,
    531, 533, 534, 535, 525, 538, 550, 551, 552, 553, 554, 555, 556, 557,
};

/* code_at - a reply code at s[i] standing alone, 0 when none */
static int code_at(const char *s, size_t i, size_t n)
{
    int code;

    if (i + 3 > n || !strchr("245", s[i]) || !isdigit((unsigned char)s[i + 1]) ||
        !isdigit((unsigned char)s[i + 2]))
        return 0;
    if (i > 0 && (isalnum((unsigned char)s[i - 1]) || strchr(".-#/=", s[i - 1])))
        return 0;
    if (i > 1 && s[i - 1] == ':' && isdigit((unsigned char)s[i - 2]))
        return 0;
    if (i + 3 < n && !strchr(" -',:]>)", s[i + 3]))
        return 0;
    code = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
    for (size_t k = 0; k < sizeof(reply_codes) / sizeof(reply_codes[0]); k++)
        if (reply_codes[k] == code)
            return code;
    return 0;
}

/* status_at - length of an RFC 3463 code x.y.z at s[i], 0 when none */
static size_t status_at(const char *s, size_t i, size_t n)
{
    size_t j = i + 1;
    int parts = 1;

    if (!strchr("245", s[i]) || (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '.')))
        return 0;
    while (parts < 3) {
        if (j >= n || s[j] != '.' || j + 1 >= n || !isdigit((unsigned char)s[j + 1]))
            return 0;
        size_t d = j + 1;
        while (d < n && isdigit((unsigned char)s[d]) && d - j <= 3)
            d++;
        if (d - j - 1 > 3)
            return 0;
        j = d;
        parts++;
    }
    if (j < n && (isdigit((unsigned char)s[j]) ||
                  (s[j] == '.' && j + 1 < n && isdigit((unsigned char)s[j + 1]))))
        return 0;
    return j - i;
}

/* generic - a status that says only the class (x.0.0) or "delivery time expired" (x.4.7) */
static int generic(const char *st)
{
    return st[0] && (strcmp(st + 1, ".0.0") == 0 || strcmp(st + 1, ".4.7") == 0);
}

/* code_before - the reply code written just before d[at] ("421 4.4.2"), 0 when none */
static int code_before(const char *d, size_t at, size_t n)
{
    int c = 0;

    for (size_t b = at >= 5 ? at - 5 : 0; b < at; b++)
        if (code_at(d, b, n) != 0)
            c = code_at(d, b, n);
    return c;
}

/*
 * pick_codes - status and reply code from the text d: a failure code (4/5)
 * before a success code; a generic status (from the message's fields or
 * the text) gives way to the last specific one of its class in the text,
 * and the reply code is then the one written just before it.
 */
static void pick_codes(struct bounce_rec *rec, const char *d, size_t n)
{
    size_t st_at = n, k;
    int first_fail = 0, first_ok = 0, c;
    char first2[16] = "", cand[16];

    for (size_t i = 0; i < n; i++) {
        c = code_at(d, i, n);
        if (c >= 400 && first_fail == 0)
            first_fail = c;
        else if (c > 0 && c < 400 && first_ok == 0)
            first_ok = c;
        if (rec->status[0] || (k = status_at(d, i, n)) == 0 || k >= sizeof(cand))
            continue;
        if (d[i] != '2') {
            memcpy(rec->status, d + i, k);
            rec->status[k] = 0;
            st_at = i;
        } else if (first2[0] == 0) {
            memcpy(first2, d + i, k);
            first2[k] = 0;
        }
    }
    if (rec->status[0] == 0)
        bounce_scan_set(rec->status, sizeof(rec->status), first2);
    for (size_t i = 0; generic(rec->status) && i < n; i++) {
        if ((k = status_at(d, i, n)) == 0 || k >= sizeof(cand) || d[i] != rec->status[0])
            continue;
        memcpy(cand, d + i, k);
        cand[k] = 0;
        if (generic(cand))
            continue;
        bounce_scan_set(rec->status, sizeof(rec->status), cand);
        if ((c = code_before(d, i, n)) != 0)
            rec->replycode = c;
        for (size_t j = i + k; j < n; j++) /* the last one of its class */
            if ((k = status_at(d, j, n)) != 0 && k < sizeof(cand) && d[j] == rec->status[0]) {
                memcpy(cand, d + j, k);
                cand[k] = 0;
                if (!generic(cand)) {
                    bounce_scan_set(rec->status, sizeof(rec->status), cand);
                    rec->replycode = code_before(d, j, n) ? code_before(d, j, n) : rec->replycode;
                }
            }
        break;
    }
    if (rec->replycode == 0 && st_at < n &&
        (c = code_before(d, st_at, n)) / 100 == rec->status[0] - '0')
        rec->replycode = c;
    if (rec->replycode == 0)
        rec->replycode = first_fail ? first_fail : (rec->status[0] == '2' ? first_ok : 0);
}

static const struct {
    const char *phrase;
    const char *cmd;
} commands[] = {
    {"rcpt to", "RCPT"},    {"rcpt_to", "RCPT"},      {"after rcpt", "RCPT"},
    {"mail from", "MAIL"},  {"after mail", "MAIL"},   {"end of data", "DATA"},
    {"after data", "DATA"}, {"data command", "DATA"}, {"to data", "DATA"},
    {"ehlo", "EHLO"},       {"helo", "HELO"},         {"starttls", "STARTTLS"},
};

/*
 * how MTAs name the command a failure answered, in their human-readable
 * text (Postfix, Sendmail transcripts, Exim, qmail, x3): first one wins
 */
static const struct {
    const char *phrase;
    const char *cmd;
} said_after[] = {
    {"in reply to rcpt to command", "RCPT"},
    {"in reply to end of data command", "DATA"},
    {"in reply to data command", "DATA"},
    {"in reply to mail from command", "MAIL"},
    {"in reply to ehlo command", "EHLO"},
    {"in reply to helo command", "HELO"},
    {">>> rcpt to:", "RCPT"},
    {">>> data", "DATA"},
    {">>> mail from:", "MAIL"},
    {">>> ehlo", "EHLO"},
    {">>> helo", "HELO"},
    {"after rcpt to:", "RCPT"},
    {"after end of data", "DATA"},
    {"after mail from:", "MAIL"},
    {"after data", "DATA"},
    {"after ehlo", "EHLO"},
    {"after helo", "HELO"},
    {"does not like recipient", "RCPT"},
    {"but sender was rejected", "MAIL"},
    {"failed after i sent the message", "DATA"},
    {"smtp:rcpt host", "RCPT"},
    {"smtp:data host", "DATA"},
};

/* bounce_scan_command - the command the failure text d[0..n) says it answered; 1 found */
int bounce_scan_command(const char *d, size_t n, char *cmd, size_t sz)
{
    const char *best = NULL;

    for (size_t c = 0; c < sizeof(said_after) / sizeof(said_after[0]); c++) {
        const char *at = bounce_scan_find(d, n, said_after[c].phrase);
        if (at && (best == NULL || at < best)) {
            best = at;
            bounce_scan_set(cmd, sz, said_after[c].cmd);
        }
    }
    return best != NULL;
}

/* rhost - "host NAME[ip] said" / "host NAME [ip]:" in the text */
static void scan_rhost(struct bounce_rec *rec, const char *d, size_t n)
{
    const char *p = d;

    while ((p = bounce_scan_find(p, (size_t)(d + n - p), "host ")) != NULL) {
        const char *h = p + 5;
        size_t k = 0;
        int word = p == d || !isalnum((unsigned char)p[-1]);
        p = h;
        if (!word)
            continue;
        while (h + k < d + n && (isalnum((unsigned char)h[k]) || h[k] == '.' || h[k] == '-'))
            k++;
        if (k < 4 || memchr(h, '.', k) == NULL)
            continue;
        const char *after = h + k;
        if (after < d + n && (*after == '[' || *after == ' ' || *after == ':' || *after == '(')) {
            bounce_scan_copy(rec->rhost, sizeof(rec->rhost), h, k);
            return;
        }
    }
}

/* bounce_scan_codes - status, reply code, command and remote host from the diagnostic */
void bounce_scan_codes(struct bounce_rec *rec)
{
    const char *d = rec->diagnostic;
    size_t n = strlen(d), best = n;

    pick_codes(rec, d, n);
    if (rec->command[0] == 0 && !bounce_scan_command(d, n, rec->command, sizeof(rec->command))) {
        for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
            const char *at = bounce_scan_find(d, n, commands[c].phrase);
            if (at && (size_t)(at - d) < best) {
                best = (size_t)(at - d);
                bounce_scan_set(rec->command, sizeof(rec->command), commands[c].cmd);
            }
        }
    }
    if (rec->rhost[0] == 0)
        scan_rhost(rec, d, n);
}
