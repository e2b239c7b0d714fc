/* smtpd_msghdr - the header section read one way, address lists by GMime; see smtpd_msghdr.h. */
#include "smtpd_msghdr.h"
#include "smtpd_headers.h"
#include "global/addr.h"
#include "util/buf.h"
#include "util/mymalloc.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAILBOXES_MAX 100

/* fields that may occur once (RFC 5322 3.6 and the MIME fields of the message) */
static const char *const single[] = {
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Subject",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-ID",
    NULL,
};

/* X-RETARUS-M4A-* control fields that may occur once (all but NOTIFICATION-HEADER) */
static const char *const single_m4a[] = {
    "NOTIFICATION-URL",
    "NOTIFICATION-AUTH-METHOD",
    "NOTIFICATION-AUTH-USER",
    "NOTIFICATION-AUTH-PASSWORD",
    "REFERENCE",
    "CAMPAIGN-ID",
    "COST-CENTER",
    "ANTIVIRUS-ACTIVE",
    "TRACE-RECOVER-ACTIVE",
    "MESSAGE-SIGNING-ACTIVE",
    NULL,
};

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init();
}

static enum smtpd_msghdr_rc malformed(char *reply, size_t rsz, const char *why)
{
    snprintf(reply, rsz, "550 5.6.0 Malformed header: %s", why);
    return SMTPD_MSGHDR_MALFORMED;
}

/* split - the line rules of smtpd_msghdr.h; fields and body offset into out */
static enum smtpd_msghdr_rc split(const char *msg, size_t len, struct smtpd_fields *out, int max,
                                  char *reply, size_t rsz)
{
    size_t off = 0;

    out->body_off = len;
    while (off < len) {
        const char *line = msg + off;
        const char *nl = memchr(line, '\n', len - off);
        size_t end, ll;

        if (nl == NULL || nl == line || nl[-1] != '\r')
            return malformed(reply, rsz, "bare CR or LF");
        end = (size_t)(nl - msg) + 1;
        ll = end - off - 2; /* without CRLF */
        if (memchr(line, '\r', ll))
            return malformed(reply, rsz, "bare CR or LF");
        if (memchr(line, 0, ll))
            return malformed(reply, rsz, "NUL octet");
        if (ll == 0) { /* the empty line: the body follows */
            out->body_off = end;
            return SMTPD_MSGHDR_OK;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            size_t i = 0;
            if (out->n == 0)
                return malformed(reply, rsz, "continuation line before the first field");
            while (i < ll && (line[i] == ' ' || line[i] == '\t'))
                i++;
            if (i == ll)
                return malformed(reply, rsz, "line of white space only");
            out->f[out->n - 1].len = end - out->f[out->n - 1].off;
            off = end;
            continue;
        }
        size_t nlen = 0;
        while (nlen < ll && line[nlen] > 32 && line[nlen] < 127 && line[nlen] != ':')
            nlen++;
        if (nlen == 0 || nlen == ll || line[nlen] != ':')
            return malformed(reply, rsz, "line without a field name and colon");
        if (out->n == max) {
            snprintf(reply, rsz, "554 5.6.0 Too many header fields");
            return SMTPD_MSGHDR_TOO_MANY;
        }
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 32;
            out->f = xrealloc(out->f, (size_t)out->cap * sizeof(*out->f));
        }
        struct smtpd_field *f = &out->f[out->n++];
        f->name = line;
        f->name_len = nlen;
        f->off = off;
        f->len = end - off;
        off = end;
    }
    return SMTPD_MSGHDR_OK; /* no empty line: the whole message is header */
}

/* fill_values - each value: after the colon, without the final CRLF */
static void fill_values(const char *msg, struct smtpd_fields *out)
{
    for (int i = 0; i < out->n; i++) {
        struct smtpd_field *f = &out->f[i];
        f->value = msg + f->off + f->name_len + 1;
        f->value_len = f->len - f->name_len - 1 - 2;
    }
}

/* duplicates - a single-instance field given twice */
static enum smtpd_msghdr_rc duplicates(const struct smtpd_fields *fs, char *reply, size_t rsz)
{
    size_t p = sizeof(SMTPD_M4A_PREFIX) - 1;

    for (int i = 0; i < fs->n; i++) {
        const struct smtpd_field *f = &fs->f[i];
        const char *canon = NULL, *prefix = "";

        for (int k = 0; single[k] && canon == NULL; k++)
            if (smtpd_mime_field_is(f, single[k]))
                canon = single[k];
        if (canon == NULL && smtpd_headers_m4a_is(f->name, f->name_len))
            for (int k = 0; single_m4a[k] && canon == NULL; k++)
                if (strlen(single_m4a[k]) == f->name_len - p &&
                    strncasecmp(f->name + p, single_m4a[k], f->name_len - p) == 0) {
                    canon = single_m4a[k];
                    prefix = SMTPD_M4A_PREFIX;
                }
        if (canon == NULL)
            continue;
        for (int j = i + 1; j < fs->n; j++) {
            if (fs->f[j].name_len != f->name_len ||
                strncasecmp(fs->f[j].name, f->name, f->name_len) != 0)
                continue;
            if (strcmp(canon, "From") == 0 || strcmp(canon, "Sender") == 0)
                snprintf(reply, rsz, "550 5.7.1 Unsupported value for %s", canon);
            else
                snprintf(reply, rsz, "550 5.6.0 Duplicate header field %s%s", prefix, canon);
            return SMTPD_MSGHDR_DUPLICATE;
        }
    }
    return SMTPD_MSGHDR_OK;
}

struct gm_warnings {
    int refuse; /* a warning that means "read otherwise by someone" */
    int split;  /* ... about the split itself (the line rules should have caught it) */
    char item[80];
};

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
    struct gm_warnings *w = data;

    (void)offset;
    switch (code) {
    case GMIME_CRIT_INVALID_HEADER_NAME:
        w->split = 1;
        /* fall through */
    case GMIME_WARN_DUPLICATED_HEADER:
    case GMIME_CRIT_CONFLICTING_HEADER:
    case GMIME_CRIT_CONFLICTING_PARAMETER:
        if (!w->refuse) {
            size_t o = 0;
            for (const char *p = item ? item : ""; *p && o + 1 < sizeof(w->item); p++)
                w->item[o++] = (*p > 32 && *p < 127) ? *p : '?';
            w->item[o] = 0;
        }
        w->refuse = 1;
        break;
    default: /* 8-bit text, RFC 2047, parameters, the (absent) body: not about the split */
        break;
    }
}

/* same_value - GMime's raw value equals ours (CRs aside: ours has only CRLF) */
static int same_value(const char *gv, const char *v, size_t n)
{
    size_t i = 0;

    for (; *gv; gv++) {
        if (*gv == '\r')
            continue;
        while (i < n && v[i] == '\r')
            i++;
        if (i == n)
            return *gv == '\n' && (gv[1] == 0 || (gv[1] == '\r' && gv[2] == 0)) ? 1 : 0;
        if (*gv != v[i++])
            return 0;
    }
    while (i < n && v[i] == '\r')
        i++;
    return i == n;
}

/* cross_check - GMime reads the header section msg[0..hend) into the same fields */
static enum smtpd_msghdr_rc cross_check(const char *msg, size_t hend, const struct smtpd_fields *fs,
                                        char *reply, size_t rsz)
{
    struct gm_warnings w = {0, 0, ""};
    GMimeParserOptions *o;
    GMimeStream *st;
    GMimeParser *p;
    GMimeMessage *m;
    GByteArray *ba;
    enum smtpd_msghdr_rc rc = SMTPD_MSGHDR_OK;

    if (fs->n == 0)
        return SMTPD_MSGHDR_OK;
    pthread_once(&gmime_once, gmime_start);
    ba = g_byte_array_sized_new((guint)hend + 2);
    g_byte_array_append(ba, (const guint8 *)msg, (guint)hend);
    g_byte_array_append(ba, (const guint8 *)"\r\n", 2);
    st = g_mime_stream_mem_new_with_byte_array(ba); /* the stream owns ba */
    p = g_mime_parser_new_with_stream(st);
    g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
    o = g_mime_parser_options_new();
    g_mime_parser_options_set_warning_callback(o, on_warning, &w);
    m = g_mime_parser_construct_message(p, o);
    if (m == NULL) {
        snprintf(reply, rsz, "550 5.6.0 Malformed header: not a message header");
        rc = SMTPD_MSGHDR_DISAGREE;
        goto out;
    }
    if (w.refuse) { /* e.g. a parameter given twice with two values */
        snprintf(reply, rsz, "550 5.6.0 Malformed header: ambiguous %s", w.item);
        rc = w.split ? SMTPD_MSGHDR_DISAGREE : SMTPD_MSGHDR_MALFORMED;
        goto out;
    }
    /* GMime keeps the Content-* fields with the message's body part: both lists, by offset */
    GMimeObject *part = g_mime_message_get_mime_part(m);
    GMimeHeaderList *hl[2] = {g_mime_object_get_header_list(GMIME_OBJECT(m)),
                              part ? g_mime_object_get_header_list(part) : NULL};
    int at[2] = {0, 0}, cnt[2] = {g_mime_header_list_get_count(hl[0]),
                                  hl[1] ? g_mime_header_list_get_count(hl[1]) : 0};
    for (int i = 0; i < fs->n; i++) {
        const struct smtpd_field *f = &fs->f[i];
        GMimeHeader *h = NULL;
        for (int k = 0; k < 2; k++) {
            GMimeHeader *c = at[k] < cnt[k] ? g_mime_header_list_get_header_at(hl[k], at[k]) : NULL;
            if (c && g_mime_header_get_offset(c) == (gint64)f->off) {
                h = c;
                at[k]++;
            }
        }
        const char *rn = h ? g_mime_header_get_raw_name(h) : NULL;
        const char *rv = h ? g_mime_header_get_raw_value(h) : NULL;
        if (h == NULL || rn == NULL || rv == NULL || strlen(rn) != f->name_len ||
            memcmp(rn, f->name, f->name_len) != 0 ||
            g_mime_header_get_offset(h) != (gint64)f->off ||
            !same_value(rv, f->value, f->value_len)) {
            snprintf(reply, rsz, "550 5.6.0 Malformed header: ambiguous field list");
            rc = SMTPD_MSGHDR_DISAGREE;
            goto out;
        }
    }
    if (at[0] != cnt[0] || at[1] != cnt[1]) { /* GMime found fields we did not */
        snprintf(reply, rsz, "550 5.6.0 Malformed header: ambiguous field list");
        rc = SMTPD_MSGHDR_DISAGREE;
    }
out:
    if (m)
        g_object_unref(m);
    g_mime_parser_options_free(o);
    g_object_unref(p);
    g_object_unref(st);
    return rc;
}

enum smtpd_msghdr_rc smtpd_msghdr_parse(const char *msg, size_t len, struct smtpd_fields *out,
                                        int max, char *reply, size_t rsz)
{
    enum smtpd_msghdr_rc rc;

    memset(out, 0, sizeof(*out));
    reply[0] = 0;
    rc = split(msg, len, out, max, reply, rsz);
    if (rc != SMTPD_MSGHDR_OK)
        return rc;
    fill_values(msg, out);
    rc = duplicates(out, reply, rsz);
    if (rc != SMTPD_MSGHDR_OK)
        return rc;
    size_t hend = out->n ? out->f[out->n - 1].off + out->f[out->n - 1].len : 0;
    return cross_check(msg, hend, out, reply, rsz);
}

/* ---- address lists ------------------------------------------------------ */

struct walk {
    const char *raw; /* the unfolded value (NUL-terminated) */
    const char *domain;
    char *first;
    size_t firstsz;
    int count, rc;
};

/* domain_written - the domain appears in the value as written (no comments or obsolete forms in it) */
static int domain_written(const char *raw, const char *gm_domain, const char *alabel)
{
    return (gm_domain[0] && strcasestr(raw, gm_domain)) || (alabel[0] && strcasestr(raw, alabel));
}

static void mailbox(struct walk *w, InternetAddressMailbox *mb)
{
    const char *a = internet_address_mailbox_get_addr(mb);
    const char *at;
    struct addr pa;

    if (a == NULL || strlen(a) > 254 || (at = strrchr(a, '@')) == NULL ||
        addr_parse_bare(a, strlen(a), &pa) < 0 || strlen(pa.bare) > 254 ||
        ++w->count > MAILBOXES_MAX || !domain_written(w->raw, at + 1, pa.domain)) {
        w->rc = -1;
        return;
    }
    if (w->count == 1)
        snprintf(w->first, w->firstsz, "%s", pa.bare);
    if (strcasecmp(pa.domain, w->domain) != 0 && w->rc > 0)
        w->rc = 0;
}

static void walk_list(struct walk *w, InternetAddressList *l, int depth)
{
    int n = l ? internet_address_list_length(l) : 0;

    for (int i = 0; i < n && w->rc >= 0; i++) {
        InternetAddress *ia = internet_address_list_get_address(l, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            if (depth > 0) { /* groups do not nest (RFC 5322 3.4) */
                w->rc = -1;
                return;
            }
            walk_list(w, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), depth + 1);
        } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            mailbox(w, INTERNET_ADDRESS_MAILBOX(ia));
        } else {
            w->rc = -1;
        }
    }
}

/*
 * brackets_ok - outside quoted strings and comments, '<' and '>' pair up
 * without nesting, no '<' follows an '@' of the same list element (an
 * address is no display name), and quotes and comments are closed.
 * Checked before GMime sees the value: such a list is invalid anyway, and
 * GMime 3.2 in strict mode leaks memory on a '>' without its '<'
 * ("a@b.example, x>") and on an address before '<' ("a@b.example <c@d.example>");
 * loose mode reads them as something else.
 */
static int brackets_ok(const char *p)
{
    int quoted = 0, depth = 0, angle = 0, at = 0;

    for (; *p; p++) {
        if (*p == '\\' && (quoted || depth)) {
            if (p[1] == 0)
                return 0;
            p++;
        } else if (quoted) {
            if (*p == '"')
                quoted = 0;
        } else if (depth) {
            if (*p == '(')
                depth++;
            else if (*p == ')')
                depth--;
        } else if (*p == '"') {
            quoted = 1;
        } else if (*p == '(') {
            depth = 1;
        } else if (*p == ')') {
            return 0;
        } else if (*p == '<') {
            if (angle || at)
                return 0;
            angle = 1;
        } else if (*p == '>') {
            if (!angle)
                return 0;
            angle = 0;
        } else if (!angle && *p == '@') {
            at = 1;
        } else if (!angle && (*p == ',' || *p == ':' || *p == ';')) {
            at = 0;
        }
    }
    return !quoted && !depth && !angle;
}

static void on_address_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
                               gpointer data)
{
    (void)offset;
    (void)item;
    if (code == GMIME_WARN_INVALID_ADDRESS_LIST)
        *(int *)data = 1;
}

int smtpd_msghdr_mailboxes(const char *v, size_t n, const char *domain, char *first, size_t firstsz)
{
    struct buf u = BUF_INIT(1 << 20);
    struct walk w = {NULL, domain, first, firstsz, 0, 1};
    GMimeParserOptions *o;
    InternetAddressList *l;
    int bad = 0;

    first[0] = 0;
    smtpd_mime_unfold(v, n, &u);
    if (u.len == 0 || memchr(buf_ptr(&u), 0, u.len)) {
        buf_free(&u);
        return -1;
    }
    w.raw = buf_ptr(&u);
    pthread_once(&gmime_once, gmime_start);
    o = g_mime_parser_options_new();
    /* loose: GMime 3.2's strict mode leaks on several malformed lists (found by
     * the smtpdmsg fuzz target); strictness comes from brackets_ok, GMime's
     * warnings, addr_parse_bare and domain_written instead */
    g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(o, FALSE);
    g_mime_parser_options_set_warning_callback(o, on_address_warning, &bad);
    l = brackets_ok(w.raw) ? internet_address_list_parse(o, w.raw) : NULL;
    if (l == NULL || bad)
        w.rc = -1;
    else
        walk_list(&w, l, 0);
    if (w.rc >= 0 && w.count == 0)
        w.rc = -1;
    if (w.rc < 0)
        first[0] = 0;
    if (l)
        g_object_unref(l);
    g_mime_parser_options_free(o);
    buf_free(&u);
    return w.rc;
}
