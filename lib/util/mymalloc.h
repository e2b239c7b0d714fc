/*
 * mymalloc - allocation that dies on out-of-memory (Postfix mymalloc.c).
 *
 * Callers never check for NULL. xfree() accepts NULL. xwipefree() clears
 * the memory first (secrets).
 */
#ifndef TX_MYMALLOC_H
#define TX_MYMALLOC_H

#include <stddef.h>

void *xmalloc(size_t len);
void *xcalloc(size_t n, size_t len);
void *xrealloc(void *ptr, size_t len);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
void *xmemdup(const void *p, size_t len);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xfree(void *ptr);
void xwipefree(void *ptr, size_t len);
void xwipestr(char *s);

#endif
