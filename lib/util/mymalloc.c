/* mymalloc - allocation that dies on out-of-memory; see mymalloc.h. */
#include "util/mymalloc.h"
#include "util/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t len)
{
    void *p = malloc(len ? len : 1);

    if (p == NULL)
        msg_fatal("out of memory allocating %zu bytes", len);
    return p;
}

void *xcalloc(size_t n, size_t len)
{
    void *p = calloc(n ? n : 1, len ? len : 1);

    if (p == NULL)
        msg_fatal("out of memory allocating %zu x %zu bytes", n, len);
    return p;
}

void *xrealloc(void *ptr, size_t len)
{
    void *p = realloc(ptr, len ? len : 1);

    if (p == NULL)
        msg_fatal("out of memory reallocating %zu bytes", len);
    return p;
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *xstrndup(const char *s, size_t len)
{
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

void *xmemdup(const void *src, size_t len)
{
    void *p = xmalloc(len);

    memcpy(p, src, len);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    if (vasprintf(&p, fmt, ap) < 0)
        msg_fatal("out of memory formatting a string");
    va_end(ap);
    return p;
}

void xfree(void *ptr)
{
    free(ptr);
}

/* xwipefree - clear len bytes then free; NULL is fine */
void xwipefree(void *ptr, size_t len)
{
    if (ptr == NULL)
        return;
    explicit_bzero(ptr, len);
    free(ptr);
}

/* xwipestr - clear a NUL-terminated secret then free it */
void xwipestr(char *s)
{
    if (s)
        xwipefree(s, strlen(s));
}
