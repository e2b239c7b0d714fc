/* codec - base64, hex, quoted-printable, UTF-8; see codec.h. */
#include "util/codec.h"

#include <string.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int encode(struct buf *out, const unsigned char *s, size_t len, const char *alpha, int pad,
                  int linelen)
{
    size_t olen = (len + 2) / 3 * 4;
    int col = 0;

    if (linelen)
        olen += olen / linelen * 2 + 2;
    if (buf_reserve(out, olen) < 0)
        return -1;
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        *o++ = alpha[v & 63];
        if (linelen && (col += 4) >= linelen) {
            *o++ = '\r', *o++ = '\n';
            col = 0;
        }
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)s[i + 1] << 8;
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        if (i + 1 < len)
            *o++ = alpha[(v >> 6) & 63];
        else if (pad)
            *o++ = '=';
        if (pad)
            *o++ = '=';
        col += 4;
    }
    if (linelen && col > 0)
        *o++ = '\r', *o++ = '\n';
    out->len = o - out->data;
    out->data[out->len] = 0;
    return 0;
}

int codec_b64_encode(struct buf *out, const void *data, size_t len)
{
    return encode(out, data, len, b64_std, 1, 0);
}

int codec_b64_encode_lines(struct buf *out, const void *data, size_t len)
{
    return encode(out, data, len, b64_std, 1, 76);
}

int codec_b64url_encode(struct buf *out, const void *data, size_t len)
{
    return encode(out, data, len, b64_url, 0, 0);
}

size_t codec_b64_decoded_max(size_t len)
{
    return len / 4 * 3 + 3;
}

static int val_of(const char *alpha, int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == alpha[62])
        return 62;
    if (c == alpha[63])
        return 63;
    return -1;
}

/* the standard alphabet's value of every byte (val_of(b64_std, c)), -1 for the others */
const signed char codec_b64_value[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,
    7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int b64_decode_impl(struct buf *out, const char *in, size_t len, int lenient_ws)
{
    uint32_t acc = 0;
    int n = 0, pads = 0;

    if (buf_reserve(out, codec_b64_decoded_max(len)) < 0)
        return -1;
    unsigned char *o = (unsigned char *)out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i], v;

        /* fast path: four alphabet characters at a group boundary (the bulk of any input) */
        while (n == 0 && !pads && len - i >= 4) {
            const unsigned char *q = (const unsigned char *)in + i;
            int a = codec_b64_value[q[0]], b = codec_b64_value[q[1]], d = codec_b64_value[q[2]],
                e = codec_b64_value[q[3]];
            if ((a | b | d | e) < 0)
                break;
            uint32_t g = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)d << 6 | (uint32_t)e;
            *o++ = g >> 16;
            *o++ = g >> 8;
            *o++ = g;
            i += 4;
        }
        if (i >= len)
            break;
        c = (unsigned char)in[i];
        if (c == '\r' || c == '\n' || (lenient_ws && (c == ' ' || c == '\t')))
            continue;
        if (c == '=') {
            pads++;
            if (pads > 2)
                return -1;
            continue;
        }
        if (pads)
            return -1; /* data after padding */
        if ((v = val_of(b64_std, c)) < 0)
            return -1;
        acc = acc << 6 | v;
        if (++n == 4) {
            *o++ = acc >> 16;
            *o++ = acc >> 8;
            *o++ = acc;
            n = 0, acc = 0;
        }
    }
    if (n == 1)
        return -1;
    if (n == 2) {
        if (pads != 2 || (acc & 0xf))
            return -1;
        *o++ = acc >> 4;
    } else if (n == 3) {
        if (pads != 1 || (acc & 0x3))
            return -1;
        *o++ = acc >> 10;
        *o++ = acc >> 2;
    } else if (pads) {
        return -1;
    }
    out->len = (char *)o - out->data;
    out->data[out->len] = 0;
    return 0;
}

static int b64url_decode_impl(struct buf *out, const char *in, size_t len)
{
    uint32_t acc = 0;
    int n = 0;

    if (len % 4 == 1)
        return -1;
    if (buf_reserve(out, codec_b64_decoded_max(len)) < 0)
        return -1;
    unsigned char *o = (unsigned char *)out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        int v = val_of(b64_url, (unsigned char)in[i]);

        if (v < 0)
            return -1;
        acc = acc << 6 | v;
        if (++n == 4) {
            *o++ = acc >> 16;
            *o++ = acc >> 8;
            *o++ = acc;
            n = 0, acc = 0;
        }
    }
    if (n == 2) {
        if (acc & 0xf)
            return -1;
        *o++ = acc >> 4;
    } else if (n == 3) {
        if (acc & 0x3)
            return -1;
        *o++ = acc >> 10;
        *o++ = acc >> 2;
    }
    out->len = (char *)o - out->data;
    out->data[out->len] = 0;
    return 0;
}

char *codec_hex_encode(char *out, const void *data, size_t len)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *s = data;

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hx[s[i] >> 4];
        out[2 * i + 1] = hx[s[i] & 15];
    }
    out[2 * len] = 0;
    return out;
}

int codec_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int codec_hex_decode(void *out, const char *in, size_t len)
{
    unsigned char *o = out;

    for (size_t i = 0; i < len; i++) {
        int hi = codec_hex_digit((unsigned char)in[2 * i]);
        int lo = hi < 0 ? -1 : codec_hex_digit((unsigned char)in[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        o[i] = hi << 4 | lo;
    }
    return 0;
}

static int qp_decode_impl(struct buf *out, const char *in, size_t len)
{
    if (buf_reserve(out, len) < 0)
        return -1;
    char *o = out->data + out->len;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '=') {
            *o++ = in[i];
            continue;
        }
        /* soft line break: "=" CRLF or "=" LF, with optional trailing blanks */
        size_t j = i + 1;
        while (j < len && (in[j] == ' ' || in[j] == '\t'))
            j++;
        if (j < len && in[j] == '\n') {
            i = j;
            continue;
        }
        if (j + 1 < len && in[j] == '\r' && in[j + 1] == '\n') {
            i = j + 1;
            continue;
        }
        if (i + 2 >= len)
            return -1;
        int hi = codec_hex_digit((unsigned char)in[i + 1]);
        int lo = codec_hex_digit((unsigned char)in[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        *o++ = (char)(hi << 4 | lo);
        i += 2;
    }
    out->len = o - out->data;
    out->data[out->len] = 0;
    return 0;
}

int codec_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            if (i + 1 >= len || (s[i + 1] & 0xc0) != 0x80)
                return 0;
            i += 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            if (i + 2 >= len || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80)
                return 0;
            if (c == 0xe0 && s[i + 1] < 0xa0)
                return 0; /* overlong */
            if (c == 0xed && s[i + 1] >= 0xa0)
                return 0; /* surrogate */
            i += 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            if (i + 3 >= len || (s[i + 1] & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80 ||
                (s[i + 3] & 0xc0) != 0x80)
                return 0;
            if (c == 0xf0 && s[i + 1] < 0x90)
                return 0;
            if (c == 0xf4 && s[i + 1] >= 0x90)
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

size_t codec_utf8_count(const char *str, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if (((unsigned char)str[i] & 0xc0) != 0x80)
            n++;
    return n;
}

int codec_b64_decode(struct buf *out, const char *in, size_t len, int lenient_ws)
{
    int r = b64_decode_impl(out, in, len, lenient_ws);

    if (r < 0 && out->data)
        out->data[out->len] = 0; /* partial output is not kept */
    return r;
}

int codec_b64url_decode(struct buf *out, const char *in, size_t len)
{
    int r = b64url_decode_impl(out, in, len);

    if (r < 0 && out->data)
        out->data[out->len] = 0; /* partial output is not kept */
    return r;
}

int codec_qp_decode(struct buf *out, const char *in, size_t len)
{
    int r = qp_decode_impl(out, in, len);

    if (r < 0 && out->data)
        out->data[out->len] = 0; /* partial output is not kept */
    return r;
}
