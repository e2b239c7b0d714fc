/* smtpd_mime - header fields, MIME parameters, attachments; see smtpd_mime.h. */
#include "smtpd_mime.h"
#include "global/account.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PARAM_SECTIONS_MAX 64

/* ---- header fields ---------------------------------------------------- */

void smtpd_mime_fields_free(struct smtpd_fields *f)
{
    if (f == NULL)
        return;
    xfree(f->f);
    f->f = NULL;
    f->n = f->cap = 0;
}

int smtpd_mime_field_is(const struct smtpd_field *f, const char *name)
{
    size_t n = strlen(name);

    return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

/* line_end - offset just after the CRLF (or LF) ending the line at off, or len */
static size_t line_end(const char *msg, size_t len, size_t off)
{
    const char *nl = memchr(msg + off, '\n', len - off);

    return nl ? (size_t)(nl - msg) + 1 : len;
}

/* field_name_len - length of a field name followed by ':' at msg+off, 0 if none */
static size_t field_name_len(const char *msg, size_t end, size_t off)
{
    size_t i = off;

    while (i < end && msg[i] > 32 && msg[i] < 127 && msg[i] != ':')
        i++;
    if (i == off || i >= end || msg[i] != ':')
        return 0;
    return i - off;
}

/* split - the fields and the body offset; values are filled by fill_values */
static int split(const char *msg, size_t len, struct smtpd_fields *out, int max)
{
    size_t off = 0;

    memset(out, 0, sizeof(*out));
    out->body_off = len;
    while (off < len) {
        size_t end = line_end(msg, len, off);

        if (msg[off] == '\r' || msg[off] == '\n') { /* the blank line */
            out->body_off = end;
            return 0;
        }
        if (msg[off] == ' ' || msg[off] == '\t') {
            if (out->n == 0) { /* a continuation without a field: body */
                out->body_off = off;
                return 0;
            }
            struct smtpd_field *f = &out->f[out->n - 1];
            f->len = end - f->off;
            off = end;
            continue;
        }
        size_t nl = field_name_len(msg, end, off);
        if (nl == 0) { /* not a header field: the body starts here */
            out->body_off = off;
            return 0;
        }
        if (out->n == max)
            return -1;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 32;
            out->f = xrealloc(out->f, (size_t)out->cap * sizeof(*out->f));
        }
        struct smtpd_field *f = &out->f[out->n++];
        f->name = msg + off;
        f->name_len = nl;
        f->off = off;
        f->len = end - off;
        off = end;
    }
    return 0;
}

/* fill_values - each value: after the colon up to the final line end */
static void fill_values(const char *msg, struct smtpd_fields *out)
{
    for (int i = 0; i < out->n; i++) {
        struct smtpd_field *f = &out->f[i];
        size_t vstart = f->off + f->name_len + 1, vend = f->off + f->len;
        if (vend > vstart && msg[vend - 1] == '\n')
            vend--;
        if (vend > vstart && msg[vend - 1] == '\r')
            vend--;
        f->value = msg + vstart;
        f->value_len = vend - vstart;
    }
}

int smtpd_mime_fields(const char *msg, size_t len, struct smtpd_fields *out, int max)
{
    int rc = split(msg, len, out, max);

    fill_values(msg, out);
    return rc;
}

void smtpd_mime_unfold(const char *v, size_t n, struct buf *out)
{
    size_t start = out->len;

    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\r' || v[i] == '\n')
            continue;
        buf_putc(out, v[i]);
    }
    /* trim */
    size_t s = start;
    while (s < out->len && (out->data[s] == ' ' || out->data[s] == '\t'))
        s++;
    if (s > start) {
        memmove(out->data + start, out->data + s, out->len - s);
        buf_truncate(out, out->len - (s - start));
    }
    while (out->len > start && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
        buf_truncate(out, out->len - 1);
}

void smtpd_mime_strip_comments(const char *v, size_t n, struct buf *out)
{
    int depth = 0, quoted = 0;

    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '\\' && (quoted || depth) && i + 1 < n) {
            if (!depth) {
                buf_putc(out, c);
                buf_putc(out, v[i + 1]);
            }
            i++;
            continue;
        }
        if (depth) {
            if (c == '(')
                depth++;
            else if (c == ')')
                depth--;
            if (depth == 0)
                buf_putc(out, ' ');
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        else if (c == '(' && !quoted) {
            depth = 1;
            continue;
        }
        buf_putc(out, c);
    }
}

/* ---- charsets --------------------------------------------------------- */

/* to_utf8 - convert in[0..len) from charset to UTF-8 appended to out; -1 on failure */
static int to_utf8(const char *charset, size_t cslen, const char *in, size_t len, struct buf *out)
{
    char cs[64];
    iconv_t cd;
    int rc = 0;

    if (cslen == 0 || cslen >= sizeof(cs))
        return -1;
    memcpy(cs, charset, cslen);
    cs[cslen] = 0;
    char *star = strchr(cs, '*'); /* RFC 2231 language suffix */
    if (star)
        *star = 0;
    if (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
        strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0) {
        if (!codec_utf8_valid(in, len))
            return -1;
        buf_append(out, in, len);
        return 0;
    }
    cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return -1;
    size_t mark = out->len;
    char *ip = (char *)in;
    size_t ileft = len;
    while (ileft > 0) {
        char tmp[1024], *op = tmp;
        size_t oleft = sizeof(tmp);
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        buf_append(out, tmp, sizeof(tmp) - oleft);
        if (r == (size_t)-1 && errno != E2BIG) {
            rc = -1;
            break;
        }
    }
    iconv_close(cd);
    if (rc < 0)
        buf_truncate(out, mark);
    return rc;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* decode_word - one encoded word's text; -1 when malformed */
static int decode_word(const char *cs, size_t cslen, char enc, const char *t, size_t tlen,
                       struct buf *out)
{
    struct buf raw = BUF_INIT(65536);
    int rc = -1;

    if (enc == 'B' || enc == 'b') {
        char padded[4096];
        size_t n = tlen;
        if (n + 3 > sizeof(padded))
            goto out;
        memcpy(padded, t, n);
        while (n % 4)
            padded[n++] = '=';
        if (codec_b64_decode(&raw, padded, n, 0) < 0)
            goto out;
    } else if (enc == 'Q' || enc == 'q') {
        for (size_t i = 0; i < tlen; i++) {
            if (t[i] == '_')
                buf_putc(&raw, ' ');
            else if (t[i] == '=') {
                int h, l;
                if (i + 2 >= tlen || (h = hexval((unsigned char)t[i + 1])) < 0 ||
                    (l = hexval((unsigned char)t[i + 2])) < 0)
                    goto out;
                buf_putc(&raw, h * 16 + l);
                i += 2;
            } else
                buf_putc(&raw, t[i]);
        }
    } else
        goto out;
    rc = to_utf8(cs, cslen, raw.data ? raw.data : "", raw.len, out);
out:
    buf_free(&raw);
    return rc;
}

/* encoded_word - parse "=?cs?e?text?=" at in+i; its end in *end; -1 if not one */
static int encoded_word(const char *in, size_t len, size_t i, size_t *end, struct buf *out)
{
    size_t p = i + 2, cs, cse, e, t, te;

    if (i + 2 > len || in[i] != '=' || in[i + 1] != '?')
        return -1;
    cs = p;
    while (p < len && in[p] != '?' && in[p] > 32 && in[p] < 127)
        p++;
    if (p >= len || in[p] != '?' || p == cs)
        return -1;
    cse = p++;
    if (p + 1 >= len || in[p + 1] != '?')
        return -1;
    e = p;
    p += 2;
    t = p;
    while (p < len && in[p] != '?' && in[p] > 32 && in[p] < 127)
        p++;
    if (p + 1 >= len || in[p] != '?' || in[p + 1] != '=')
        return -1;
    te = p;
    if (decode_word(in + cs, cse - cs, in[e], in + t, te - t, out) < 0)
        return -1;
    *end = te + 2;
    return 0;
}

void smtpd_mime_decode2047(const char *in, size_t len, struct buf *out)
{
    size_t i = 0, ws = 0, wslen = 0;
    int after_word = 0;

    while (i < len) {
        if (in[i] == ' ' || in[i] == '\t') {
            if (wslen == 0)
                ws = i;
            wslen++;
            i++;
            continue;
        }
        if (in[i] == '=' && i + 1 < len && in[i + 1] == '?') {
            size_t end, mark = out->len;
            if (!after_word && wslen) /* white space between two words is dropped */
                buf_append(out, in + ws, wslen);
            if (encoded_word(in, len, i, &end, out) == 0) {
                i = end;
                after_word = 1;
                wslen = 0;
                continue;
            }
            buf_truncate(out, mark); /* not an encoded word: literal text */
        }
        if (wslen)
            buf_append(out, in + ws, wslen);
        wslen = 0;
        buf_putc(out, in[i]);
        after_word = 0;
        i++;
    }
    if (wslen)
        buf_append(out, in + ws, wslen);
}

/* ---- parameters ------------------------------------------------------- */

static int tspecial(int c)
{
    return c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

void smtpd_mime_type(const char *v, size_t n, char *out, size_t outsz)
{
    struct buf s = BUF_INIT(1 << 20);
    size_t o = 0, i = 0;

    smtpd_mime_strip_comments(v, n, &s);
    while (i < s.len && (s.data[i] == ' ' || s.data[i] == '\t'))
        i++;
    while (i < s.len && s.data[i] != ';' && s.data[i] != ' ' && s.data[i] != '\t' && o + 1 < outsz)
        out[o++] = (char)tolower((unsigned char)s.data[i++]);
    out[o] = 0;
    if (strchr(out, '/') == NULL)
        out[0] = 0;
    buf_free(&s);
}

struct section {
    int have, ext;
    struct buf val;
};

/* pct_decode - RFC 2231 %XX; -1 when malformed */
static int pct_decode(const char *s, size_t n, struct buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h, l;
            if (i + 2 >= n)
                return -1;
            if ((h = hexval((unsigned char)s[i + 1])) < 0 ||
                (l = hexval((unsigned char)s[i + 2])) < 0)
                return -1;
            buf_putc(out, h * 16 + l);
            i += 2;
        } else
            buf_putc(out, s[i]);
    }
    return 0;
}

/* ext_value - charset'lang'pct-text into UTF-8 */
static int ext_value(const char *s, size_t n, struct buf *out)
{
    const char *q1 = memchr(s, '\'', n), *q2;
    struct buf raw = BUF_INIT(1 << 20);
    int rc;

    if (q1 == NULL || (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - s))) == NULL)
        return -1;
    if (pct_decode(q2 + 1, n - (size_t)(q2 + 1 - s), &raw) < 0) {
        buf_free(&raw);
        return -1;
    }
    if (q1 == s) /* no charset: take the octets as they are */
        rc = codec_utf8_valid(buf_ptr(&raw), raw.len) ? (buf_append(out, buf_ptr(&raw), raw.len), 0)
                                                      : -1;
    else
        rc = to_utf8(s, (size_t)(q1 - s), buf_ptr(&raw), raw.len, out);
    buf_free(&raw);
    return rc;
}

/* the forms of one parameter in a field value (RFC 2045, RFC 2231) */
struct param_forms {
    struct buf plain, ext; /* name=, name*= */
    int have_plain, have_ext;
    struct section sec[PARAM_SECTIONS_MAX]; /* name*0=, name*1*=, ... */
};

/*
 * param_next - the next attribute=value of p[0..len) from *ip: 1 with the
 * attribute at p + *a (length *alen) and the unquoted value in val, 0 when
 * junk up to the next ';' was skipped
 */
static int param_next(const char *p, size_t len, size_t *ip, size_t *a, size_t *alen,
                      struct buf *val)
{
    size_t i = *ip;

    while (i < len && (p[i] == ';' || p[i] == ' ' || p[i] == '\t'))
        i++;
    *a = i;
    while (i < len && !tspecial((unsigned char)p[i]))
        i++;
    if (i < len && p[i] == '*') /* "name*" and "name*0*" continue the token */
        while (i < len && (p[i] == '*' || isdigit((unsigned char)p[i])))
            i++;
    *alen = i - *a;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (*alen == 0 || i >= len || p[i] != '=') { /* junk: skip to the next ';' */
        while (i < len && p[i] != ';')
            i++;
        *ip = i;
        return 0;
    }
    i++;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i < len && p[i] == '"') {
        for (i++; i < len && p[i] != '"'; i++) {
            if (p[i] == '\\' && i + 1 < len)
                i++;
            buf_putc(val, p[i]);
        }
        if (i < len)
            i++;
    } else {
        while (i < len && p[i] != ';' && p[i] != ' ' && p[i] != '\t')
            buf_putc(val, p[i++]);
    }
    *ip = i;
    return 1;
}

/* param_keep - val, when attribute at[0..alen) is a form of name (the first of each form wins) */
static void param_keep(struct param_forms *f, const char *at, size_t alen, const char *name,
                       size_t nlen, const struct buf *val)
{
    if (alen == nlen && strncasecmp(at, name, nlen) == 0) {
        if (!f->have_plain) {
            buf_append(&f->plain, buf_ptr(val), val->len);
            f->have_plain = 1;
        }
    } else if (alen == nlen + 1 && strncasecmp(at, name, nlen) == 0 && at[nlen] == '*') {
        if (!f->have_ext) {
            buf_append(&f->ext, buf_ptr(val), val->len);
            f->have_ext = 1;
        }
    } else if (alen > nlen + 1 && strncasecmp(at, name, nlen) == 0 && at[nlen] == '*' &&
               isdigit((unsigned char)at[nlen + 1])) {
        size_t k = nlen + 1;
        long idx = 0;
        while (k < alen && isdigit((unsigned char)at[k]) && idx < PARAM_SECTIONS_MAX)
            idx = idx * 10 + (at[k++] - '0');
        int is_ext = k < alen && at[k] == '*';
        if (idx < PARAM_SECTIONS_MAX && !f->sec[idx].have) {
            f->sec[idx].have = 1;
            f->sec[idx].ext = is_ext;
            buf_append(&f->sec[idx].val, buf_ptr(val), val->len);
        }
    }
}

/*
 * join_sections - the RFC 2231 continuations from section 0 on, joined and
 * decoded into out; -1 when one is malformed
 */
static int join_sections(const struct param_forms *f, struct buf *out)
{
    struct buf raw = BUF_INIT(1 << 20);
    const char *cs = NULL;
    size_t cslen = 0;
    int bad = 0, rc = -1;

    for (int k = 0; k < PARAM_SECTIONS_MAX && f->sec[k].have && !bad; k++) {
        const char *sv = buf_ptr(&f->sec[k].val);
        size_t sl = f->sec[k].val.len;
        if (k == 0 && f->sec[0].ext) {
            const char *q1 = memchr(sv, '\'', sl), *q2;
            if (q1 == NULL || (q2 = memchr(q1 + 1, '\'', sl - (size_t)(q1 + 1 - sv))) == NULL) {
                bad = 1;
                break;
            }
            cs = sv;
            cslen = (size_t)(q1 - sv);
            sl -= (size_t)(q2 + 1 - sv);
            sv = q2 + 1;
        }
        if (f->sec[k].ext)
            bad = pct_decode(sv, sl, &raw) < 0;
        else
            buf_append(&raw, sv, sl);
    }
    if (!bad) {
        if (cslen)
            rc = to_utf8(cs, cslen, buf_ptr(&raw), raw.len, out);
        else {
            buf_append(out, buf_ptr(&raw), raw.len);
            rc = 0;
        }
    }
    buf_free(&raw);
    return rc;
}

int smtpd_mime_param(const char *v, size_t n, const char *name, struct buf *out)
{
    struct buf s = BUF_INIT(1 << 20);
    struct param_forms f;
    size_t nlen = strlen(name), i = 0;
    int rc = -1, quoted = 0;

    memset(&f, 0, sizeof(f));
    buf_init(&f.plain, 1 << 20);
    buf_init(&f.ext, 1 << 20);
    for (int k = 0; k < PARAM_SECTIONS_MAX; k++)
        buf_init(&f.sec[k].val, 1 << 20);
    smtpd_mime_strip_comments(v, n, &s);
    const char *p = buf_ptr(&s);
    size_t len = s.len;
    /* skip the type: up to the first ';' outside quotes */
    for (; i < len; i++) {
        if (p[i] == '"')
            quoted = !quoted;
        else if (p[i] == ';' && !quoted)
            break;
    }
    while (i < len) {
        struct buf val = BUF_INIT(1 << 20);
        size_t a, alen;

        if (param_next(p, len, &i, &a, &alen, &val))
            param_keep(&f, p + a, alen, name, nlen, &val);
        buf_free(&val);
    }
    if (f.sec[0].have)
        rc = join_sections(&f, out);
    if (rc < 0 && f.have_ext)
        rc = ext_value(buf_ptr(&f.ext), f.ext.len, out);
    if (rc < 0 && f.have_plain) {
        smtpd_mime_decode2047(buf_ptr(&f.plain), f.plain.len, out);
        rc = 0;
    }
    for (int k = 0; k < PARAM_SECTIONS_MAX; k++)
        buf_free(&f.sec[k].val);
    buf_free(&s);
    buf_free(&f.plain);
    buf_free(&f.ext);
    return rc;
}

/* ---- attachments ------------------------------------------------------ */

int smtpd_mime_name_forbidden(json_t *settings, const char *name, size_t len)
{
    while (len > 0 && (name[len - 1] == '.' || name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    for (size_t i = len; i > 0; i--) {
        if (name[i - 1] == '.')
            return i < len && account_list_has(settings, "forbiddenExtensions", name + i, len - i);
        if (name[i - 1] == '/' || name[i - 1] == '\\')
            return 0;
    }
    return 0;
}

struct walk {
    json_t *settings;
    struct buf *name;
    int entities;
};

/* first_field - unfolded value of the first field called name, 0 found / -1 */
static int first_field(const struct smtpd_fields *fs, const char *name, struct buf *out)
{
    for (int i = 0; i < fs->n; i++)
        if (smtpd_mime_field_is(&fs->f[i], name)) {
            smtpd_mime_unfold(fs->f[i].value, fs->f[i].value_len, out);
            return 0;
        }
    return -1;
}

/* check_param - the named parameter of a field value is a forbidden file name */
static int check_param(struct walk *w, const struct buf *fv, const char *param)
{
    struct buf nm = BUF_INIT(1 << 20);
    int bad = 0;

    if (smtpd_mime_param(buf_ptr(fv), fv->len, param, &nm) == 0 &&
        smtpd_mime_name_forbidden(w->settings, buf_ptr(&nm), nm.len)) {
        buf_reset(w->name);
        buf_append(w->name, buf_ptr(&nm), nm.len);
        bad = 1;
    }
    buf_free(&nm);
    return bad;
}

/* delimiter_ok - after "--boundary" comes "--", white space or the line end */
static int delimiter_ok(const char *p, const char *end)
{
    if (p + 2 <= end && p[0] == '-' && p[1] == '-')
        return 1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p == end || *p == '\r' || *p == '\n';
}

/* find_delim - the next delimiter line starting at or after from (at a line start) */
static const char *find_delim(const char *body, const char *from, const char *end, const char *dash,
                              size_t dlen)
{
    const char *p = from;

    if (p == body && (size_t)(end - p) >= dlen && memcmp(p, dash, dlen) == 0 &&
        delimiter_ok(p + dlen, end))
        return p;
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), dash - 2, dlen + 2); /* "\r\n--b" */
        if (hit == NULL)
            return NULL;
        if (delimiter_ok(hit + 2 + dlen, end))
            return hit + 2;
        p = hit + 1;
    }
    return NULL;
}

static enum smtpd_mime_walk entity(struct walk *w, const char *p, size_t len, int depth)
{
    struct smtpd_fields fs;
    struct buf ct = BUF_INIT(1 << 20), cd = BUF_INIT(1 << 20);
    enum smtpd_mime_walk rc = SMTPD_MIME_OK;
    char type[128];

    if (depth > SMTPD_MIME_DEPTH_MAX || ++w->entities > SMTPD_MIME_PARTS_MAX)
        return SMTPD_MIME_COMPLEX;
    smtpd_mime_fields(p, len, &fs, SMTPD_MIME_FIELDS_MAX * 10);
    int have_ct = first_field(&fs, "Content-Type", &ct) == 0;
    if (first_field(&fs, "Content-Disposition", &cd) == 0 && check_param(w, &cd, "filename")) {
        rc = SMTPD_MIME_FORBIDDEN;
        goto out;
    }
    if (have_ct && check_param(w, &ct, "name")) {
        rc = SMTPD_MIME_FORBIDDEN;
        goto out;
    }
    smtpd_mime_type(buf_ptr(&ct), ct.len, type, sizeof(type));
    const char *body = p + fs.body_off, *end = p + len;
    if (strncmp(type, "multipart/", 10) == 0) {
        char dash[256 + 4];
        struct buf b = BUF_INIT(1024);
        if (smtpd_mime_param(buf_ptr(&ct), ct.len, "boundary", &b) < 0 || b.len == 0 ||
            b.len > 200) {
            buf_free(&b);
            goto out; /* no usable boundary: a leaf */
        }
        int dlen = snprintf(dash, sizeof(dash), "\r\n--%s", buf_ptr(&b));
        buf_free(&b);
        const char *d = dash + 2; /* "--boundary", with "\r\n" before it */
        size_t dl = (size_t)dlen - 2;
        const char *pos = find_delim(body, body, end, d, dl);
        while (pos && rc == SMTPD_MIME_OK) {
            const char *after = pos + dl;
            if (after + 2 <= end && after[0] == '-' && after[1] == '-')
                break; /* close delimiter */
            const char *nl = memchr(after, '\n', (size_t)(end - after));
            if (nl == NULL)
                break;
            const char *start = nl + 1;
            const char *next = find_delim(body, start - 2, end, d, dl); /* an empty part too */
            const char *pend = next ? (next - 2 >= start ? next - 2 : start) : end;
            rc = entity(w, start, (size_t)(pend - start), depth + 1);
            pos = next;
        }
    } else if (strcmp(type, "message/rfc822") == 0 || strcmp(type, "message/global") == 0) {
        rc = entity(w, body, (size_t)(end - body), depth + 1);
    }
out:
    smtpd_mime_fields_free(&fs);
    buf_free(&ct);
    buf_free(&cd);
    return rc;
}

enum smtpd_mime_walk smtpd_mime_attachments(const char *msg, size_t len, json_t *settings,
                                            struct buf *name)
{
    struct walk w = {settings, name, 0};

    return entity(&w, msg, len, 0);
}
