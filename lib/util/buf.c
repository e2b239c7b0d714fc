/* buf - bounded growable buffer; see buf.h. */
#include "util/buf.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->failed = 0;
}

void buf_free(struct buf *b)
{
    xfree(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = 0;
}

/* buf_reserve - make room for extra more bytes plus the NUL */
int buf_reserve(struct buf *b, size_t extra)
{
    size_t need;

    if (b->failed)
        return -1;
    if (extra > b->max || b->len > b->max - extra) {
        buf_free(b);
        b->failed = 1;
        return -1;
    }
    need = b->len + extra + 1;
    if (need > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;

        while (ncap < need)
            ncap *= 2;
        if (ncap > b->max + 1)
            ncap = b->max + 1;
        b->data = xrealloc(b->data, ncap);
        b->cap = ncap;
        b->data[b->len] = 0; /* a buffer is always a valid string */
    }
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, int c)
{
    char ch = (char)c;

    return buf_append(b, &ch, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        buf_free(b);
        b->failed = 1;
        return -1;
    }
    if (buf_reserve(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

int buf_error(const struct buf *b)
{
    return b->failed;
}

char *buf_steal(struct buf *b, size_t *lenp)
{
    char *p;

    if (b->failed) {
        buf_free(b);
        if (lenp)
            *lenp = 0;
        return NULL;
    }
    p = b->data ? b->data : xstrdup("");
    if (lenp)
        *lenp = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *buf_ptr(const struct buf *b)
{
    return b->data ? b->data : "";
}

void buf_truncate(struct buf *b, size_t len)
{
    if (b->data && len < b->len) {
        b->len = len;
        b->data[len] = 0;
    }
}
