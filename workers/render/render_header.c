/*
 * render_header - header fields: folding, RFC 2047, mailboxes, RFC 2231,
 * dates; see render_header.h.
 */
#include "workers/render/render_header.h"
#include "util/mymalloc.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define EW_MAX 75 /* RFC 2047 §2: an encoded-word is at most 75 characters */

static void w_append(struct header_w *w, const char *s, size_t len)
{
    if (w->bad & 2)
        return;
    if (buf_append(w->b, s, len) < 0)
        w->bad |= 2; /* the buffer is gone: stop writing into it */
}

void render_header_begin(struct header_w *w, struct buf *b, const char *name)
{
    w->b = b;
    w->bad = 0;
    w_append(w, name, strlen(name));
    w_append(w, ":", 1);
    w->col = w->min_col = strlen(name) + 1;
}

void render_header_put(struct header_w *w, const char *ws, size_t wslen, const char *tok,
                       size_t toklen)
{
    if (wslen > 0 && w->col > w->min_col && w->col + wslen + toklen > HEADER_FOLD) {
        w_append(w, "\r\n", 2);
        w->col = 0;
    }
    w_append(w, ws, wslen);
    w_append(w, tok, toklen);
    w->col += wslen + toklen;
    if (w->col > HEADER_LINE_MAX)
        w->bad |= 1;
}

int render_header_end(struct header_w *w)
{
    w_append(w, "\r\n", 2);
    w->col = 0;
    return w->bad ? -1 : 0;
}

int render_header_text_clean(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == 0)
            return 0;
    return 1;
}

/* utf8_next - length of the code point at s (1..4), or 0 when the bytes are not valid UTF-8 */
static size_t utf8_next(const unsigned char *s, size_t len)
{
    size_t n;
    unsigned c = s[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* q_cost - characters one octet takes in a Q word (RFC 2047 §5 (3): the phrase-safe set) */
static int q_literal(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' ||
           c == '*' || c == '+' || c == '-' || c == '/';
}

static size_t q_cost(unsigned char c)
{
    return q_literal(c) || c == ' ' ? 1 : 3;
}

static const char hexdig[] = "0123456789ABCDEF";
static const char b64tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* charset_ok - a charset name we are willing to put into a header or parameter */
static int charset_ok(const char *cs)
{
    size_t n = strlen(cs);

    if (n == 0 || n > 40)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)cs[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-_.:+()", c)))
            return 0;
    }
    return 1;
}

static int is_utf8_name(const char *cs)
{
    return cs == NULL || strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "UTF8") == 0;
}

struct ew {
    struct header_w *w;
    const char *first_ws;
    char prefix[64];
    size_t budget;             /* payload characters per word */
    size_t first_budget;       /* the first word shares its line with "Name:" */
    int enc;                   /* 'B' or 'Q' */
    unsigned char raw[EW_MAX]; /* octets of the word being built */
    size_t rlen, qlen;
    int words;
};

static void ew_flush(struct ew *e)
{
    char word[EW_MAX + 8];
    size_t o = 0, pl = strlen(e->prefix);

    if (e->rlen == 0)
        return;
    memcpy(word, e->prefix, pl);
    o = pl;
    if (e->enc == 'Q') {
        for (size_t i = 0; i < e->rlen; i++) {
            unsigned char c = e->raw[i];
            if (c == ' ')
                word[o++] = '_';
            else if (q_literal(c))
                word[o++] = (char)c;
            else {
                word[o++] = '=';
                word[o++] = hexdig[c >> 4];
                word[o++] = hexdig[c & 15];
            }
        }
    } else {
        size_t i = 0;
        for (; i + 2 < e->rlen; i += 3) {
            unsigned v = (unsigned)e->raw[i] << 16 | (unsigned)e->raw[i + 1] << 8 | e->raw[i + 2];
            word[o++] = b64tab[v >> 18];
            word[o++] = b64tab[(v >> 12) & 63];
            word[o++] = b64tab[(v >> 6) & 63];
            word[o++] = b64tab[v & 63];
        }
        if (i < e->rlen) {
            unsigned v =
                (unsigned)e->raw[i] << 16 | (i + 1 < e->rlen ? (unsigned)e->raw[i + 1] << 8 : 0);
            word[o++] = b64tab[v >> 18];
            word[o++] = b64tab[(v >> 12) & 63];
            word[o++] = i + 1 < e->rlen ? b64tab[(v >> 6) & 63] : '=';
            word[o++] = '=';
        }
    }
    word[o++] = '?';
    word[o++] = '=';
    const char *ws = e->words == 0 ? e->first_ws : " ";
    render_header_put(e->w, ws, strlen(ws), word, o);
    e->words++;
    e->rlen = e->qlen = 0;
}

/* ew_add - one character's octets; a character never spans two words */
static void ew_add(struct ew *e, const unsigned char *c, size_t n)
{
    size_t q = 0, budget = e->words == 0 ? e->first_budget : e->budget;

    if (e->enc == 'Q') {
        for (size_t i = 0; i < n; i++)
            q += q_cost(c[i]);
        if (e->qlen + q > budget && e->rlen > 0)
            ew_flush(e);
    } else if ((e->rlen + n + 2) / 3 * 4 > budget && e->rlen > 0)
        ew_flush(e);
    memcpy(e->raw + e->rlen, c, n);
    e->rlen += n;
    e->qlen += q;
}

int render_header_encoded_words(struct header_w *w, const char *first_ws, const char *text,
                                size_t len, const char *charset, int enc, char *err, size_t errsz)
{
    struct ew e;
    iconv_t cd = (iconv_t)-1;
    const char *label = charset && *charset ? charset : "UTF-8";
    const char *conv = label;
    int rc = -1;

    if (!charset_ok(label)) {
        snprintf(err, errsz, "unsupported charset name");
        return -1;
    }
    /* a BOM per word would end up inside the decoded text: name the byte order */
    if (strcasecmp(label, "UTF-16") == 0)
        label = conv = "UTF-16BE";
    else if (strcasecmp(label, "UTF-32") == 0)
        label = conv = "UTF-32BE";
    else if (strcasecmp(label, "UCS-2") == 0)
        label = conv = "UCS-2BE";
    memset(&e, 0, sizeof(e));
    e.w = w;
    e.first_ws = first_ws;
    e.enc = enc == 'B' ? 'B' : 'Q';
    snprintf(e.prefix, sizeof(e.prefix), "=?%s?%c?", label, e.enc);
    if (strlen(e.prefix) + 2 + 12 > EW_MAX) {
        snprintf(err, errsz, "charset name too long for an encoded-word");
        return -1;
    }
    e.budget = EW_MAX - strlen(e.prefix) - 2;
    /* the first word fits on the line it starts, within 76 columns, when it can */
    size_t used = w->col + strlen(first_ws) + strlen(e.prefix) + 2;
    e.first_budget = used + 12 <= 76 ? 76 - used : e.budget;
    if (e.first_budget > e.budget)
        e.first_budget = e.budget;
    if (!is_utf8_name(conv)) {
        cd = iconv_open(conv, "UTF-8");
        if (cd == (iconv_t)-1) {
            snprintf(err, errsz, "unknown charset %s", label);
            return -1;
        }
    }
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_next(s + i, len - i);
        unsigned char qm = '?';
        const unsigned char *cp = s + i;
        if (n == 0) { /* not UTF-8: one '?' for the byte */
            cp = &qm;
            n = 1;
            i++;
        } else
            i += n;
        if (cd == (iconv_t)-1) {
            ew_add(&e, cp, n);
            continue;
        }
        unsigned char out[16];
        char *in = (char *)cp, *op = (char *)out;
        size_t inleft = n, outleft = sizeof(out);
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &in, &inleft, &op, &outleft) == (size_t)-1 ||
            iconv(cd, NULL, NULL, &op, &outleft) == (size_t)-1) {
            snprintf(err, errsz, "a character cannot be represented in %s", label);
            goto out;
        }
        if (op > (char *)out)
            ew_add(&e, out, (size_t)(op - (char *)out));
    }
    ew_flush(&e);
    rc = 0;
out:
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    return rc;
}

/* needs_encoding - text that cannot stay as it is in an unstructured field */
static int needs_encoding(const char *s, size_t len, size_t first_col)
{
    size_t word = 0, longest = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x7f || (c < 0x20 && c != '\t'))
            return 1;
        if (c == '=' && i + 1 < len && s[i + 1] == '?')
            return 1;
        if (c == ' ' || c == '\t')
            word = 0;
        else if (++word > longest)
            longest = word;
    }
    return longest + first_col + 1 > HEADER_LINE_MAX;
}

int render_header_unstructured(struct buf *b, const char *name, const char *text, size_t len,
                               const char *charset, int force, char *err, size_t errsz)
{
    struct header_w w;
    char *clean = NULL;
    int rc = 0;

    if (!render_header_text_clean(text, len)) {
        clean = xmemdup(text, len + 1);
        for (size_t i = 0; i < len; i++)
            if (clean[i] == '\r' || clean[i] == '\n' || clean[i] == 0)
                clean[i] = ' ';
        text = clean;
    }
    render_header_begin(&w, b, name);
    if (force || needs_encoding(text, len, strlen(name) + 1)) {
        rc = render_header_encoded_words(&w, " ", text, len, charset, force ? force : 'Q', err,
                                         errsz);
    } else {
        /* tokens: white space run + word; a fold goes before the white space */
        size_t i = 0;
        int first = 1;
        while (i < len) {
            size_t ws = i, wd;
            while (i < len && (text[i] == ' ' || text[i] == '\t'))
                i++;
            wd = i;
            while (i < len && text[i] != ' ' && text[i] != '\t')
                i++;
            if (first) /* "Name: " + the text's own leading white space */
                render_header_put(&w, " ", 1, text + ws, i - ws);
            else
                render_header_put(&w, text + ws, wd - ws, text + wd, i - wd);
            first = 0;
        }
    }
    if (render_header_end(&w) < 0 && rc == 0) {
        snprintf(err, errsz, "%s does not fit", name);
        rc = -1;
    }
    xfree(clean);
    return rc;
}

/* phrase_kind - 0 atoms (as is), 1 quoted string, 2 encoded-words */
static int phrase_kind(const char *s, size_t len)
{
    int kind = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x7f || c < 0x20)
            return 2;
        if (c == ' ' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", c)) {
            if (c == '=' && i + 1 < len && s[i + 1] == '?')
                kind = 1; /* would read as an encoded-word */
            continue;
        }
        kind = 1;
    }
    if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
        kind = 1;
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == ' ' && s[i + 1] == ' ')
            kind = 1; /* keep the spacing */
    return kind;
}

int render_header_mailboxes(struct buf *b, const char *name, const struct header_mailbox *mb,
                            size_t n, char *err, size_t errsz)
{
    struct header_w w;
    struct buf tok = BUF_INIT(4096);
    int rc = 0;

    render_header_begin(&w, b, name);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *d = mb[i].display ? mb[i].display : "";
        size_t dl = strlen(d);
        const char *sep = i + 1 < n ? "," : "";

        buf_reset(&tok);
        if (dl == 0 || !render_header_text_clean(d, dl)) {
            /* no (usable) display name: the bare address */
            buf_puts(&tok, mb[i].addr);
            buf_puts(&tok, sep);
            render_header_put(&w, " ", 1, buf_ptr(&tok), tok.len);
            continue;
        }
        switch (phrase_kind(d, dl)) {
        case 0: {
            size_t j = 0;
            while (j < dl) {
                size_t k = j;
                while (k < dl && d[k] != ' ')
                    k++;
                render_header_put(&w, " ", 1, d + j, k - j);
                j = k + 1;
            }
            break;
        }
        case 1:
            buf_putc(&tok, '"');
            for (size_t j = 0; j < dl; j++) {
                if (d[j] == '"' || d[j] == '\\')
                    buf_putc(&tok, '\\');
                buf_putc(&tok, d[j]);
            }
            buf_putc(&tok, '"');
            render_header_put(&w, " ", 1, buf_ptr(&tok), tok.len);
            break;
        default:
            rc = render_header_encoded_words(&w, " ", d, dl, NULL, 'Q', err, errsz);
        }
        buf_reset(&tok);
        buf_putc(&tok, '<');
        buf_puts(&tok, mb[i].addr);
        buf_putc(&tok, '>');
        buf_puts(&tok, sep);
        render_header_put(&w, " ", 1, buf_ptr(&tok), tok.len);
    }
    buf_free(&tok);
    if (render_header_end(&w) < 0 && rc == 0) {
        snprintf(err, errsz, "%s does not fit", name);
        rc = -1;
    }
    return rc;
}

/* attribute-char of RFC 2231: any CHAR except specials, SPACE, '*', ''' and '%' */
static int attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$&+-.^_`|~", c);
}

void render_header_param(struct header_w *w, const char *attr, const char *value, size_t len)
{
    int simple = len > 0 && len <= 200;
    struct buf t = BUF_INIT(8192);

    for (size_t i = 0; i < len && simple; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            simple = 0;
    }
    render_header_put(w, "", 0, ";", 1);
    if (simple) {
        buf_printf(&t, "%s=\"%.*s\"", attr, (int)len, value);
        render_header_put(w, " ", 1, buf_ptr(&t), t.len);
        buf_free(&t);
        return;
    }
    /* percent-encode; segments never split a %XX triple */
    struct buf enc = BUF_INIT(8192);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (attr_char(c))
            buf_putc(&enc, c);
        else {
            char pct[3] = {'%', hexdig[c >> 4], hexdig[c & 15]};
            buf_append(&enc, pct, 3);
        }
    }
    if (strlen(attr) + 10 + enc.len <= HEADER_FOLD - 2) {
        buf_printf(&t, "%s*=UTF-8''%s", attr, buf_ptr(&enc));
        render_header_put(w, " ", 1, buf_ptr(&t), t.len);
    } else {
        const char *e = buf_ptr(&enc);
        size_t pos = 0;
        for (int seg = 0; pos < enc.len; seg++) {
            /* " attr*N*=" [UTF-8''] segment ";" within 78 columns */
            size_t room = HEADER_FOLD - 1 - strlen(attr) - 6 - (seg == 0 ? 7 : 0) - 1;
            size_t take = enc.len - pos > room ? room : enc.len - pos;
            if (pos + take < enc.len) {
                /* do not cut a %XX, nor a UTF-8 sequence (cut before a continuation octet) */
                if (take >= 1 && e[pos + take - 1] == '%')
                    take -= 1;
                else if (take >= 2 && e[pos + take - 2] == '%')
                    take -= 2;
                for (int back = 0; back < 3 && take > 3 && e[pos + take] == '%' &&
                                   (e[pos + take + 1] == '8' || e[pos + take + 1] == '9' ||
                                    e[pos + take + 1] == 'A' || e[pos + take + 1] == 'B');
                     back++)
                    if (e[pos + take - 3] == '%')
                        take -= 3;
                    else
                        break;
            }
            buf_reset(&t);
            buf_printf(&t, "%s*%d*=%s%.*s%s", attr, seg, seg == 0 ? "UTF-8''" : "", (int)take,
                       e + pos, pos + take < enc.len ? ";" : "");
            render_header_put(w, " ", 1, buf_ptr(&t), t.len);
            pos += take;
        }
    }
    buf_free(&enc);
    buf_free(&t);
}

char *render_header_date(char *out, size_t outsz, int64_t ms)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return out;
}
