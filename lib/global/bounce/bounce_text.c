/*
 * bounce_text - the interpreter of the provider text formats
 * (bounce_formats.c): which row matches a message, and the records its
 * error section gives.
 *
 * A row matches when its From:/Subject: substrings match (when it has
 * any; need_sender rows require that) and a text line contains one of its
 * begin markers (when it has any). The error section runs from the line
 * after the begin marker to the first line containing an end marker (the
 * row's, else the common ones below), or a line that starts the returned
 * message's header. In it, a line matching a recipient pattern starts a
 * record; the rest of that line and the following lines, up to the next
 * recipient, are its diagnostic. Records left without text take the next
 * record's, else the text before the first recipient.
 *
 * Only the first BOUNCE_MAX_SCAN bytes of the text are looked at.
 *
 * Recipient patterns match a whole line with its leading blanks removed,
 * case-insensitively: "%a" an address (angle brackets optional), "*" any
 * text, " " any run of blanks (also none), "#" a digit, any other byte
 * itself. A recipient line gives its record the line (without the
 * address when only blanks or punctuation precede it);
 * rows with text_before give a record the lines since the previous
 * recipient instead of those after it (since the last line that starts a
 * new SMTP session, the row's session markers, when one came later).
 * From a line containing one of the row's summary markers on (the
 * returned message's summary: "MAIL FROM:", "RCPT TO:"), lines still give
 * recipients but are nobody's error text.
 */
#include "bounce_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* where a returned message usually starts when the row names no end */
static const char *const common_end[] = {
    "--- Below this line is a copy of the message",
    "------ This is a copy of the message",
    "----- Original message -----",
    "----- Original Message -----",
    "--- Original message follows",
    "Original message follows",
    "----- Unsent message follows",
    "----- Message header follows",
    "--- The header of the original message",
    "Content-Type: message/rfc822",
    NULL,
};

/* header names that start the returned message inline */
static const char *const orig_starts[] = {
    "Return-Path:", "Received:", "Message-ID:", "DKIM-Signature:", "X-Original-To:", NULL,
};

#define NLIST(a) (sizeof(a) / sizeof((a)[0]))

/* any_in - one of list[0..max) (up to a NULL) occurs in hay[0..n) */
static int any_in(const char *hay, size_t n, const char *const *list, size_t max)
{
    for (size_t i = 0; i < max && list[i]; i++)
        if (bounce_scan_find(hay, n, list[i]))
            return 1;
    return 0;
}

static int starts_any(const char *line, size_t n, const char *const *list)
{
    for (int i = 0; list[i]; i++) {
        size_t k = strlen(list[i]);
        if (n >= k && strncasecmp(line, list[i], k) == 0)
            return 1;
    }
    return 0;
}

/* pmatch - pattern at pat against s[0..n); the address into addr; 1 on a match */
static int pmatch(const char *pat, const char *s, size_t n, char *addr, size_t asz, int depth)
{
    if (depth > 8)
        return 0;
    while (*pat) {
        if (*pat == '*') {
            for (size_t i = 0; i <= n; i++)
                if (pmatch(pat + 1, s + i, n - i, addr, asz, depth + 1))
                    return 1;
            return 0;
        }
        if (*pat == ' ') {
            while (n > 0 && isspace((unsigned char)*s))
                s++, n--;
            pat++;
            continue;
        }
        if (pat[0] == '%' && pat[1] == 'a') {
            size_t i = 0, end = 0;
            if (i < n && s[i] == '<')
                i++;
            if (i < n && strncasecmp(s + i, "mailto:", n - i < 7 ? n - i : 7) == 0 && n - i >= 7)
                i += 7;
            if (!bounce_scan_addr(s + i, n - i, addr, asz, &end) || s[i] == '@' ||
                bounce_scan_find(s + i, end, addr) != s + i)
                return 0;
            i += end;
            if (i < n && s[i] == '>')
                i++;
            s += i, n -= i, pat += 2;
            continue;
        }
        if (*pat == '#' && n > 0 && isdigit((unsigned char)*s)) {
            pat++, s++, n--;
            continue;
        }
        if (n == 0 || tolower((unsigned char)*pat) != tolower((unsigned char)*s))
            return 0;
        pat++, s++, n--;
    }
    return n == 0;
}

static int sender_match(const struct bounce_format *f, const struct bounce_report *r, int *has)
{
    *has = f->from[0] || f->subject[0];
    for (size_t i = 0; i < NLIST(f->from) && f->from[i]; i++)
        if (bounce_scan_find(r->from, strlen(r->from), f->from[i]))
            return 1;
    for (size_t i = 0; i < NLIST(f->subject) && f->subject[i]; i++)
        if (bounce_scan_find(r->subject, strlen(r->subject), f->subject[i]))
            return 1;
    return 0;
}

/* section - [*b, *e) of the error section of f in text; 0 when no begin marker */
static int section(const struct bounce_format *f, const char *text, const char **b, const char **e)
{
    size_t len = strnlen(text, BOUNCE_MAX_SCAN);
    const char *end = text + len, *p = text;

    *b = NULL;
    if (f->has[0] && !any_in(text, (size_t)(end - text), f->has, NLIST(f->has)))
        return 0;
    if (f->begin[0] == NULL)
        *b = text;
    while (*b == NULL && p < end) {
        const char *next = bounce_scan_line(p, end, &len);
        if (any_in(p, len, f->begin, NLIST(f->begin)))
            *b = next;
        p = next;
    }
    if (*b == NULL)
        return 0;
    for (p = *b; p < end;) {
        const char *next = bounce_scan_line(p, end, &len);
        if ((f->end[0] && any_in(p, len, f->end, NLIST(f->end))) ||
            any_in(p, len, common_end, NLIST(common_end)) || starts_any(p, len, orig_starts))
            break;
        p = next;
    }
    *e = p;
    return 1;
}

/*
 * bounce_text_match - the first row whose sender and begin marker match,
 * NULL when none; rows that recognise nothing (phrases only) never name a
 * format
 */
const struct bounce_format *bounce_text_match(const struct bounce_report *r, const char *text)
{
    const char *b, *e;
    int has;

    for (int i = 0; i < bounce_nformats; i++) {
        const struct bounce_format *f = &bounce_formats[i];
        int s = sender_match(f, r, &has);
        if (!has && !f->begin[0] && !f->has[0])
            continue;
        if ((has && !s && (f->need_sender || !f->begin[0])) || !section(f, text, &b, &e))
            continue;
        return f;
    }
    return NULL;
}

static int rcpt_line(const struct bounce_format *f, const char *p, size_t len, char *addr,
                     size_t asz)
{
    while (len > 0 && isspace((unsigned char)*p))
        p++, len--;
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        len--;
    for (size_t i = 0; i < NLIST(f->rcpt) && f->rcpt[i]; i++)
        if (pmatch(f->rcpt[i], p, len, addr, asz, 0))
            return 1;
    return 0;
}

/* inline_original - the header block after the section end, as the returned message's */
static void inline_original(const char *from, struct buf *orighdr)
{
    const char *end = from + strlen(from), *p = from, *start = NULL;
    size_t len;

    if (orighdr->len > 0)
        return;
    while (p < end) {
        const char *next = bounce_scan_line(p, end, &len);
        if (start == NULL && starts_any(p, len, orig_starts))
            start = p;
        if (start && len == 0)
            break;
        p = next;
    }
    if (start)
        bounce_msg_put(orighdr, start, (size_t)(p - start));
}

/* without - line p[0..len) into dst, without the address (and its brackets) when it leads */
static void without(char *dst, size_t sz, const char *p, size_t len, const char *addr)
{
    const char *at = bounce_scan_find(p, len, addr);
    size_t a, b;

    if (at == NULL) {
        bounce_scan_copy(dst, sz, p, len);
        return;
    }
    a = (size_t)(at - p);
    b = a + strlen(addr);
    while (a > 0 && strchr("<\"", p[a - 1]))
        a--;
    for (size_t i = 0; i < a; i++)
        if (isalnum((unsigned char)p[i])) { /* inside a sentence: the line as written */
            bounce_scan_copy(dst, sz, p, len);
            return;
        }
    while (b < len && strchr(">\":.;", p[b]))
        b++;
    bounce_scan_copy(dst, sz, p, a);
    bounce_scan_append(dst, sz, p + b, len - b);
}

/* read_section - the records of f in [b, e); the number added */
static int read_section(struct bounce_report *r, const struct bounce_format *f, const char *b,
                        const char *e)
{
    char addr[256], pre[1024] = "", line[1024];
    int first = r->nrecs, summ = 0;
    struct bounce_rec *cur = NULL;
    size_t len;

    for (const char *p = b; p < e;) {
        const char *next = bounce_scan_line(p, e, &len);
        int dup = 0;
        summ |= any_in(p, len, f->summary, NLIST(f->summary));
        if (rcpt_line(f, p, len, addr, sizeof(addr))) {
            for (int i = first; i < r->nrecs; i++)
                dup |= strcmp(r->recs[i].recipient, addr) == 0;
            if (!dup && (cur = bounce_rec_add(r)) != NULL) {
                bounce_scan_set(cur->recipient, sizeof(cur->recipient), addr);
                without(line, sizeof(line), p, len, addr);
                if (f->text_before) {
                    bounce_scan_set(cur->diagnostic, sizeof(cur->diagnostic), pre);
                    pre[0] = 0;
                }
                if (!summ)
                    bounce_scan_append(cur->diagnostic, sizeof(cur->diagnostic), line,
                                       strlen(line));
                p = next;
                continue;
            }
        }
        if (f->text_before && any_in(p, len, f->session, NLIST(f->session)))
            pre[0] = 0; /* a new session: what came before belongs to no recipient */
        if (summ)
            ; /* the returned message's summary is nobody's error text */
        else if (cur && !f->text_before)
            bounce_scan_append(cur->diagnostic, sizeof(cur->diagnostic), p, len);
        else
            bounce_scan_append(pre, sizeof(pre), p, len);
        p = next;
    }
    for (int i = r->nrecs - 1; i >= first; i--)
        if (r->recs[i].diagnostic[0] == 0)
            bounce_scan_set(r->recs[i].diagnostic, sizeof(r->recs[i].diagnostic),
                            i + 1 < r->nrecs ? r->recs[i + 1].diagnostic : pre);
    return r->nrecs - first;
}

/* bounce_text_original - the returned message after f's section (or the text's start) */
void bounce_text_original(const struct bounce_format *f, const char *text, struct buf *orighdr)
{
    const char *b, *e;

    if (f && section(f, text, &b, &e))
        inline_original(e, orighdr);
    else
        inline_original(text, orighdr);
}

/* bounce_text_read - records of the first matching row that gives any; that row or NULL */
const struct bounce_format *bounce_text_read(struct bounce_report *r, const char *text,
                                             struct buf *orighdr)
{
    const char *b, *e;
    int has;

    for (int i = 0; i < bounce_nformats; i++) {
        const struct bounce_format *f = &bounce_formats[i];
        int s = sender_match(f, r, &has);
        if ((has && !s && (f->need_sender || !f->begin[0])) || !section(f, text, &b, &e))
            continue;
        if (read_section(r, f, b, e) > 0) {
            inline_original(e, orighdr);
            return f;
        }
    }
    return NULL;
}

/* own - the record of t that is rec's paragraph, NULL when none is */
static const struct bounce_rec *own(const struct bounce_report *t, const struct bounce_report *r,
                                    const struct bounce_rec *rec)
{
    for (int j = 0; j < t->nrecs; j++)
        if (strcmp(t->recs[j].recipient, rec->recipient) == 0 || (t->nrecs == 1 && r->nrecs == 1) ||
            rec->recipient[0] == 0)
            return &t->recs[j];
    return NULL;
}

/*
 * bounce_text_fill - the DSN records' text from f's section (f NULL: the
 * first row whose section gives records): a record takes the paragraph of
 * its own recipient (or, one record and one paragraph, the only one): its
 * diagnostic when it has none ("host X said: ..."), and its command when
 * it has none ("in reply to RCPT TO command"). A record no paragraph names
 * takes the whole section only when the section names no recipient, or
 * the report has one record: another recipient's text is never its own.
 */
void bounce_text_fill(struct bounce_report *r, const struct bounce_format *f, const char *text)
{
    struct bounce_report t;
    const char *b, *e;

    memset(&t, 0, sizeof(t));
    for (int i = 0; f == NULL && i < bounce_nformats; i++) { /* the first row that gives records */
        int has, s = sender_match(&bounce_formats[i], r, &has);
        if ((has && !s) || !section(&bounce_formats[i], text, &b, &e) ||
            read_section(&t, &bounce_formats[i], b, e) == 0)
            continue;
        f = &bounce_formats[i];
        bounce_report_free(&t);
    }
    if (f == NULL || !section(f, text, &b, &e))
        return;
    read_section(&t, f, b, e);
    for (int i = 0; i < r->nrecs; i++) {
        struct bounce_rec *rec = &r->recs[i];
        const struct bounce_rec *o = own(&t, r, rec);
        if (o && rec->diagnostic[0] == 0) {
            memcpy(rec->diagnostic, o->diagnostic, sizeof(rec->diagnostic));
            if (rec->recipient[0] == 0)
                memcpy(rec->recipient, o->recipient, sizeof(rec->recipient));
        }
        if (o && rec->command[0] == 0)
            bounce_scan_command(o->diagnostic, strlen(o->diagnostic), rec->command,
                                sizeof(rec->command));
        if (rec->diagnostic[0] == 0 && (t.nrecs == 0 || r->nrecs == 1))
            bounce_scan_copy(rec->diagnostic, sizeof(rec->diagnostic), b, (size_t)(e - b));
    }
    bounce_report_free(&t);
}

/*
 * bounce_text_names - text[0..n) names the recipient of a record of r
 * (one of the first BOUNCE_NAMES_CHECKED: the cost stays linear in n)
 */
int bounce_text_names(const struct bounce_report *r, const char *text, size_t n)
{
    for (int i = 0; i < r->nrecs && i < BOUNCE_NAMES_CHECKED; i++)
        if (r->recs[i].recipient[0] && bounce_scan_find(text, n, r->recs[i].recipient))
            return 1;
    return 0;
}
