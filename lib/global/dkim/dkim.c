/* dkim - DKIM signing; see dkim.h. */
#include "global/dkim/dkim.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const sign_names[] = {
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
    "Sender",
    NULL,
};
#define SIGN_OVER ((int)(sizeof(sign_names) / sizeof(sign_names[0])) - 1)

int dkim_key_from_pem(EVP_PKEY **out, enum dkim_alg *alg, const char *pem, size_t len, char *err,
                      size_t errsz)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    if (k == NULL) {
        snprintf(err, errsz, "the DKIM key is not a PEM private key");
        return -1;
    }
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(k) < 1024) {
            snprintf(err, errsz, "the RSA DKIM key is shorter than 1024 bits");
            EVP_PKEY_free(k);
            return -1;
        }
        *alg = DKIM_RSA_SHA256;
        break;
    case EVP_PKEY_ED25519:
        *alg = DKIM_ED25519_SHA256;
        break;
    default:
        snprintf(err, errsz, "the DKIM key is neither RSA nor Ed25519");
        EVP_PKEY_free(k);
        return -1;
    }
    *out = k;
    return 0;
}

/* ---- relaxed body canonicalization (RFC 6376 §3.4.4), streaming ----- */

struct sink {
    EVP_MD_CTX *md; /* hash into this, or */
    struct buf *b;  /* append to this */
};

static void sink_put(struct sink *s, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (s->md)
        EVP_DigestUpdate(s->md, p, n);
    else
        buf_append(s->b, p, n);
}

/*
 * canon_body - WSP runs become one SP, WSP at line ends goes, empty lines
 * at the end go, a non-empty body ends in CRLF. Line ends are CRLF.
 *
 * The bodies render builds (base64, quoted-printable, CRLF text) are
 * almost all canonical already, so the input is passed on in spans as it
 * is, and only the places that change are written apart: a WSP run that
 * is not one SP before content, and the end. Trailing WSP and CRLFs are
 * cut first: whatever follows the last octet of content becomes empty
 * lines, which go. (A CR counts as the start of a line end only right
 * before an LF; bare CR and LF are content.)
 */
static void canon_body(struct sink *s, const char *p, size_t len)
{
    size_t end = len, span = 0, i = 0;

    while (end > 0) {
        if (p[end - 1] == ' ' || p[end - 1] == '\t')
            end--;
        else if (end >= 2 && p[end - 1] == '\n' && p[end - 2] == '\r')
            end -= 2;
        else
            break;
    }
    /* p[end - 1] is content now: every WSP run below is followed by an octet */
    const char *tab = end ? memchr(p, '\t', end) : NULL; /* the next TAB, or NULL */
    while (i < end) {
        const char *ws = memchr(p + i, ' ', end - i);
        if (tab && tab < p + i)
            tab = memchr(p + i, '\t', end - i);
        if (tab && (ws == NULL || tab < ws))
            ws = tab;
        if (ws == NULL)
            break;
        size_t a = (size_t)(ws - p), j = a + 1;
        while (j < end && (p[j] == ' ' || p[j] == '\t'))
            j++;
        int eol = p[j] == '\r' && j + 1 < end && p[j + 1] == '\n';
        if (j - a == 1 && p[a] == ' ' && !eol) {
            i = j; /* one SP before content: as it is */
            continue;
        }
        sink_put(s, p + span, a - span);
        if (!eol)
            sink_put(s, " ", 1);
        span = i = j;
    }
    sink_put(s, p + span, end - span);
    if (end > 0)
        sink_put(s, "\r\n", 2);
}

void dkim_canon_body(struct buf *out, const char *body, size_t len)
{
    struct sink s = {NULL, out};

    canon_body(&s, body, len);
}

void dkim_body_hash(unsigned char bh[32], const char *body, size_t len)
{
    struct sink s = {EVP_MD_CTX_new(), NULL};
    unsigned int n = 32;

    EVP_DigestInit_ex(s.md, EVP_sha256(), NULL);
    canon_body(&s, body, len);
    EVP_DigestFinal_ex(s.md, bh, &n);
    EVP_MD_CTX_free(s.md);
}

/* ---- relaxed header canonicalization (RFC 6376 §3.4.2) -------------- */

/* canon_field - name lowercased, unfolded, WSP runs to one SP, trimmed; crlf: add CRLF */
static void canon_field(struct buf *out, const char *f, size_t len, int crlf)
{
    const char *colon = memchr(f, ':', len);
    size_t nl, i;
    int started = 0, ws = 0;

    if (colon == NULL)
        return;
    nl = (size_t)(colon - f);
    while (nl > 0 && (f[nl - 1] == ' ' || f[nl - 1] == '\t'))
        nl--;
    for (i = 0; i < nl; i++) {
        char c = f[i];
        buf_putc(out, c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    buf_putc(out, ':');
    /* the field's own terminating CRLF is not part of the value */
    size_t end = len;
    if (end >= 2 && f[end - 2] == '\r' && f[end - 1] == '\n')
        end -= 2;
    for (i = (size_t)(colon - f) + 1; i < end; i++) {
        char c = f[i];
        if (c == '\r' && i + 1 < end && f[i + 1] == '\n') {
            i++;
            continue;
        }
        if (c == ' ' || c == '\t') {
            ws = 1;
            continue;
        }
        if (started && ws)
            buf_putc(out, ' ');
        ws = 0;
        started = 1;
        buf_putc(out, c);
    }
    if (crlf)
        buf_puts(out, "\r\n");
}

void dkim_canon_header(struct buf *out, const char *field, size_t len)
{
    canon_field(out, field, len, 1);
}

struct field {
    const char *p;
    size_t len; /* with the CRLF(s) */
    size_t namelen;
};

/* parse_fields - the header fields of hdr (continuation lines joined); stops at an empty line */
static size_t parse_fields(const char *hdr, size_t len, struct field **out)
{
    size_t n = 0, cap = 32, pos = 0;
    struct field *f = xmalloc(cap * sizeof(*f)), *cur = NULL;

    while (pos < len) {
        const char *nl = memchr(hdr + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - hdr) + 1 : len;
        size_t linelen = end - pos;
        if (linelen == 0 || (linelen <= 2 && (hdr[pos] == '\r' || hdr[pos] == '\n')))
            break; /* the empty line */
        if ((hdr[pos] == ' ' || hdr[pos] == '\t')) {
            if (cur)
                cur->len = end - (size_t)(cur->p - hdr);
        } else {
            const char *colon = memchr(hdr + pos, ':', linelen);
            if (colon == NULL) {
                cur = NULL; /* not a field: never signed */
            } else {
                if (n == cap) {
                    cap *= 2;
                    f = xrealloc(f, cap * sizeof(*f));
                }
                cur = &f[n++];
                cur->p = hdr + pos;
                cur->len = linelen;
                cur->namelen = (size_t)(colon - (hdr + pos));
                while (cur->namelen > 0 &&
                       (cur->p[cur->namelen - 1] == ' ' || cur->p[cur->namelen - 1] == '\t'))
                    cur->namelen--;
            }
        }
        pos = end;
    }
    *out = f;
    return n;
}

static int name_is(const struct field *f, const char *name)
{
    return f->namelen == strlen(name) && strncasecmp(f->p, name, f->namelen) == 0;
}

static int sign_digest(const struct dkim_key *k, const unsigned char md[32], unsigned char *sig,
                       size_t *siglen)
{
    int ok = 0;

    if (k->alg == DKIM_RSA_SHA256) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
        ok = ctx && EVP_PKEY_sign_init(ctx) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
             EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
             EVP_PKEY_sign(ctx, sig, siglen, md, 32) > 0;
        EVP_PKEY_CTX_free(ctx);
    } else {
        /* RFC 8463: PureEdDSA over the SHA-256 hash of the header data */
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        ok = m && EVP_DigestSignInit(m, NULL, NULL, NULL, k->pkey) > 0 &&
             EVP_DigestSign(m, sig, siglen, md, 32) > 0;
        EVP_MD_CTX_free(m);
    }
    return ok ? 0 : -1;
}

int dkim_sign(struct buf *out, const struct dkim_key *k, const char *hdr, size_t hdrlen,
              const unsigned char bh[32], int64_t t, char *err, size_t errsz)
{
    struct field *f;
    size_t nf = parse_fields(hdr, hdrlen, &f);
    struct buf sigh = BUF_INIT(16384), canon = BUF_INIT(1 << 20), hl = BUF_INIT(4096);
    struct buf b64 = BUF_INIT(2048);
    unsigned char md[32], sig[1024];
    size_t siglen = sizeof(sig);
    unsigned int mdlen = 32;
    int rc = -1;

    /* h=: every signed name as often as it occurs (bottom-up), From once more */
    size_t col = 3;
    for (int i = 0; i <= SIGN_OVER; i++) {
        const char *nm = i == SIGN_OVER ? "From" : sign_names[i];
        size_t count = 0, c0 = 0;
        for (size_t j = 0; j < nf; j++)
            count += name_is(&f[j], nm);
        if (i == SIGN_OVER) /* over-sign From: one more than there are */
            c0 = count, count++;
        for (size_t c = c0; c < count; c++) {
            /* the c-th listed instance is the c-th from the bottom */
            size_t seen = 0;
            for (size_t j = nf; j-- > 0;)
                if (name_is(&f[j], nm) && seen++ == c) {
                    canon_field(&canon, f[j].p, f[j].len, 1);
                    break;
                }
            size_t nl = strlen(nm);
            if (hl.len > 0) {
                buf_putc(&hl, ':');
                col++;
                if (col + nl > 74) {
                    buf_puts(&hl, "\r\n\t ");
                    col = 2;
                }
            }
            for (size_t x = 0; x < nl; x++) {
                char ch = nm[x];
                buf_putc(&hl, ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
            }
            col += nl;
        }
    }
    codec_b64_encode(&b64, bh, 32);
    buf_printf(&sigh, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed;\r\n\td=%s; s=%s;",
               k->alg == DKIM_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256", k->domain, k->selector);
    if (t > 0)
        buf_printf(&sigh, " t=%lld;", (long long)t);
    buf_printf(&sigh, "\r\n\th=%s;\r\n\tbh=%s;\r\n\tb=", buf_ptr(&hl), buf_ptr(&b64));
    canon_field(&canon, sigh.data, sigh.len, 0);
    if (sigh.data == NULL || canon.data == NULL || hl.data == NULL) {
        snprintf(err, errsz, "DKIM: header too large to sign");
        goto out;
    }
    EVP_Digest(canon.data, canon.len, md, &mdlen, EVP_sha256(), NULL);
    if (sign_digest(k, md, sig, &siglen) < 0) {
        snprintf(err, errsz, "DKIM: signing with the %s key failed",
                 k->alg == DKIM_RSA_SHA256 ? "RSA" : "Ed25519");
        goto out;
    }
    buf_reset(&b64);
    codec_b64_encode(&b64, sig, siglen);
    /* fold the signature: FWS is allowed anywhere inside b= */
    const char *s = buf_ptr(&b64);
    size_t left = b64.len, first = 70;
    buf_append(&sigh, s, left < first ? left : first);
    s += left < first ? left : first;
    left -= left < first ? left : first;
    while (left > 0) {
        size_t take = left < 72 ? left : 72;
        buf_puts(&sigh, "\r\n\t ");
        buf_append(&sigh, s, take);
        s += take;
        left -= take;
    }
    buf_puts(&sigh, "\r\n");
    if (sigh.data == NULL || buf_append(out, sigh.data, sigh.len) < 0) {
        snprintf(err, errsz, "DKIM: message too large");
        goto out;
    }
    rc = 0;
out:
    xfree(f);
    buf_free(&sigh);
    buf_free(&canon);
    buf_free(&hl);
    buf_free(&b64);
    return rc;
}
