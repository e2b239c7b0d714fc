/* smime_sign - multipart/signed with OpenSSL CMS; see smime.h. */
#include "global/smime/smime.h"
#include "util/codec.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PREAMBLE "This is an S/MIME signed message.\r\n"

int smime_split(const char *msg, size_t len, size_t *hdrlen, const char **body, size_t *bodylen)
{
    if (len >= 2 && msg[0] == '\r' && msg[1] == '\n') {
        *hdrlen = 0;
        *body = msg + 2, *bodylen = len - 2;
        return 0;
    }
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(msg + i, "\r\n\r\n", 4) == 0) {
            *hdrlen = i + 2;
            *body = msg + i + 4, *bodylen = len - i - 4;
            return 0;
        }
    return -1;
}

int smime_next_field(const char *hdr, size_t hdrlen, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;

    if (i >= hdrlen)
        return -1;
    *start = i;
    for (;;) {
        const char *nl = memchr(hdr + i, '\n', hdrlen - i);
        i = nl ? (size_t)(nl - hdr) + 1 : hdrlen;
        if (i >= hdrlen || (hdr[i] != ' ' && hdr[i] != '\t'))
            break;
    }
    *end = *pos = i;
    return 0;
}

/* is_field - the field at f starts with name and a colon */
static int is_field(const char *f, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && strncasecmp(f, name, n) == 0 && f[n] == ':';
}

static int is_content(const char *f, size_t len)
{
    return len > 8 && strncasecmp(f, "Content-", 8) == 0;
}

/* tag_value - the value of tag t= of a DKIM-Signature field, into out */
static void tag_value(const char *f, size_t len, const char *t, char *out, size_t outsz)
{
    size_t tl = strlen(t), o = 0;
    const char *p = memchr(f, ':', len), *e = f + len;

    out[0] = 0;
    for (p = p ? p + 1 : e; p < e;) {
        while (p < e && (isspace((unsigned char)*p) || *p == ';'))
            p++;
        const char *semi = memchr(p, ';', (size_t)(e - p));
        const char *end = semi ? semi : e;
        if ((size_t)(end - p) > tl && strncasecmp(p, t, tl) == 0) {
            const char *q = p + tl;
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
                q++;
            if (q < end && *q == '=')
                for (q++; q < end && o + 1 < outsz; q++)
                    if (!isspace((unsigned char)*q))
                        out[o++] = (char)tolower((unsigned char)*q);
            if (o) {
                out[o] = 0;
                return;
            }
        }
        p = end;
    }
}

static void seen_add(struct smime_dkim_seen *seen, const char *f, size_t len)
{
    char v[254];

    seen->n++;
    tag_value(f, len, "a", v, sizeof(v));
    if (strcmp(v, "rsa-sha256") == 0)
        seen->algs |= 1;
    else if (strcmp(v, "ed25519-sha256") == 0)
        seen->algs |= 2;
    if (!seen->domain[0])
        tag_value(f, len, "d", seen->domain, sizeof(seen->domain));
}

/* seven_bit - the entity's body is 7bit and canonical CRLF; else why not */
static const char *seven_bit(const char *ent, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)ent[i];
        if (c >= 0x80 || c == 0)
            return "the message has 8bit content; message signing needs a 7bit message "
                   "(quoted-printable or base64)";
        if (c == '\r' && (i + 1 >= len || ent[i + 1] != '\n'))
            return "the message has a bare CR";
        if (c == '\n' && (i == 0 || ent[i - 1] != '\r'))
            return "the message has a bare LF";
    }
    return NULL;
}

/* field_ok - a field name (printable, no colon) and a colon; CRLF line ends, no NUL */
static int field_ok(const char *f, size_t len)
{
    size_t i = 0;

    while (i < len && f[i] > 32 && f[i] < 127 && f[i] != ':')
        i++;
    if (i == 0 || i >= len || f[i] != ':' || len < 2 || f[len - 2] != '\r' || f[len - 1] != '\n')
        return 0;
    for (i = 0; i < len; i++)
        if (f[i] == 0 || (f[i] == '\r' && f[i + 1] != '\n') ||
            (f[i] == '\n' && (i == 0 || f[i - 1] != '\r')))
            return 0;
    return 1;
}

static const char *cte_8bit(const char *f, size_t len)
{
    const char *v = memchr(f, ':', len);
    size_t n = len - (size_t)(v - f) - 1;

    for (v++; n && isspace((unsigned char)*v); v++, n--)
        ;
    if ((n >= 4 && strncasecmp(v, "8bit", 4) == 0) || (n >= 6 && strncasecmp(v, "binary", 6) == 0))
        return "the message has 8bit content (Content-Transfer-Encoding); message signing needs "
               "a 7bit message (quoted-printable or base64)";
    return NULL;
}

/* cms - the DER SignedData over ent, base64 in lines into out */
static int cms(struct buf *out, const char *ent, size_t len, const struct smime_signer *s,
               char *err, size_t errsz)
{
    unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
    BIO *in = len > 0x7fffffff ? NULL : BIO_new_mem_buf(ent, (int)len);
    CMS_ContentInfo *ci = NULL;
    unsigned char *der = NULL;
    int n = -1, rc = -1;

    if (in && (ci = CMS_sign(NULL, NULL, s->chain, NULL, flags)) != NULL &&
        CMS_add1_signer(ci, s->cert, s->key, EVP_sha256(), flags) != NULL &&
        CMS_final(ci, in, NULL, flags) == 1 && (n = i2d_CMS_ContentInfo(ci, &der)) > 0)
        rc = codec_b64_encode_lines(out, der, (size_t)n);
    if (rc < 0) {
        unsigned long e = ERR_peek_last_error();
        char es[160] = "";
        if (e)
            ERR_error_string_n(e, es, sizeof(es));
        snprintf(err, errsz, "the CMS signature failed%s%s", es[0] ? ": " : "", es);
    }
    ERR_clear_error();
    OPENSSL_free(der);
    CMS_ContentInfo_free(ci);
    BIO_free(in);
    return rc;
}

/* boundary - derived from the entity, not found in it */
static int boundary(char out[48], const char *ent, size_t len)
{
    unsigned char md[32];
    char hex[65];

    SHA256((const unsigned char *)ent, len, md);
    codec_hex_encode(hex, md, 16);
    snprintf(out, 48, "=_smime_%.32s", hex);
    for (size_t i = 0; i + strlen(out) <= len; i++)
        if (memcmp(ent + i, out, strlen(out)) == 0)
            return -1;
    return 0;
}

int smime_sign(struct buf *out, const char *msg, size_t len, const struct smime_signer *s,
               struct smime_dkim_seen *seen, char *err, size_t errsz)
{
    struct buf outer = BUF_INIT(out->max), ent = BUF_INIT(out->max), sig = BUF_INIT(1 << 20);
    size_t hdrlen, bodylen, pos = 0, a, b;
    const char *body, *why = NULL;
    int ctype = 0, mimever = 0, rc = -1;
    char bnd[48];

    memset(seen, 0, sizeof(*seen));
    if (smime_split(msg, len, &hdrlen, &body, &bodylen) < 0) {
        snprintf(err, errsz, "the message has no end of header");
        return -1;
    }
    while (smime_next_field(msg, hdrlen, &pos, &a, &b) == 0) {
        const char *f = msg + a;
        if (!field_ok(f, b - a)) {
            snprintf(err, errsz, "the message has a malformed header field");
            goto out;
        }
        if (is_field(f, b - a, "DKIM-Signature"))
            seen_add(seen, f, b - a);
        else if (is_content(f, b - a)) {
            ctype |= is_field(f, b - a, "Content-Type");
            if (!why && is_field(f, b - a, "Content-Transfer-Encoding"))
                why = cte_8bit(f, b - a);
            buf_append(&ent, f, b - a);
        } else {
            mimever |= is_field(f, b - a, "MIME-Version");
            buf_append(&outer, f, b - a);
        }
    }
    if (!ctype)
        buf_puts(&ent, "Content-Type: text/plain; charset=us-ascii\r\n");
    buf_append(&ent, "\r\n", 2);
    buf_append(&ent, body, bodylen);
    if (!mimever)
        buf_puts(&outer, "MIME-Version: 1.0\r\n");
    if (buf_error(&ent) || buf_error(&outer)) {
        snprintf(err, errsz, "message too large");
        goto out;
    }
    if (why || (why = seven_bit(ent.data, ent.len)) != NULL) {
        snprintf(err, errsz, "%s", why);
        goto out;
    }
    if (boundary(bnd, ent.data, ent.len) < 0) {
        snprintf(err, errsz, "no boundary for the message");
        goto out;
    }
    if (cms(&sig, ent.data, ent.len, s, err, errsz) < 0)
        goto out;
    buf_append(out, outer.data, outer.len);
    buf_printf(out,
               "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n"
               "\tmicalg=sha-256; boundary=\"%s\"\r\n\r\n" PREAMBLE "\r\n--%s\r\n",
               bnd, bnd);
    buf_append(out, ent.data, ent.len);
    buf_printf(out,
               "\r\n--%s\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
               "Content-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
               "Content-Description: S/MIME Cryptographic Signature\r\n\r\n",
               bnd);
    buf_append(out, sig.data, sig.len);
    if (sig.len && sig.data[sig.len - 1] != '\n')
        buf_append(out, "\r\n", 2);
    buf_printf(out, "\r\n--%s--\r\n", bnd);
    if (buf_error(out)) {
        snprintf(err, errsz, "message too large");
        goto out;
    }
    rc = 0;
out:
    buf_free(&outer);
    buf_free(&ent);
    buf_free(&sig);
    return rc;
}
