/*
 * buf - growable byte buffer with a hard maximum (after curl dynbuf).
 *
 * buf_init(b, max) sets the ceiling; every append that would pass it
 * fails with -1, frees the contents and leaves an empty buffer (so a
 * half-built value is never used by mistake). The failure is sticky:
 * every later append fails too, until buf_init(), buf_reset() or
 * buf_free() starts the buffer over, so a value can never be built from
 * the pieces after a lost one. Whatever finishes the buffer sees the
 * failure: buf_error() is 1 and buf_steal() returns NULL. The data is
 * always NUL-terminated (the NUL is not counted in len). buf_free()
 * accepts a buffer that was never used.
 */
#ifndef TX_BUF_H
#define TX_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
    int failed; /* an append failed since the start */
};

#define BUF_INIT(max)                                                                              \
    {                                                                                              \
        NULL, 0, 0, (max), 0                                                                       \
    }

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, int c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
int buf_reserve(struct buf *b, size_t extra);
/* buf_error - 1 when an append failed since the buffer was (re)started */
int buf_error(const struct buf *b);
/* buf_steal - return the data (caller frees) and leave b empty; NULL (and b
 * started over) when an append failed. Ownership: new. */
char *buf_steal(struct buf *b, size_t *lenp);
/* buf_ptr - the contents, "" when empty. Ownership: borrowed until the next change. */
const char *buf_ptr(const struct buf *b);
/* buf_truncate - shorten to len (len <= b->len) */
void buf_truncate(struct buf *b, size_t len);

#endif
