/* evbatch - the event-batch wire format; see evbatch.h. */
#include "global/runtime/evbatch.h"
#include "util/mymalloc.h"

#include <string.h>

void evbatch_join(char **body, size_t *len, int *parts, const char *add, size_t addlen,
                  int addparts)
{
    const char *from = addparts > 1 ? add + 1 : add; /* without its '[' */
    size_t n = addparts > 1 ? addlen - 2 : addlen;   /* nor its ']' */
    size_t keep = *parts > 1 ? *len - 1 : *len;      /* without our ']' */
    int wrap = *parts == 1;
    char *nb = xmalloc(keep + n + 4); /* [ , ] NUL */
    size_t at = 0;

    if (wrap)
        nb[at++] = '[';
    memcpy(nb + at, *body, keep);
    at += keep;
    nb[at++] = ',';
    memcpy(nb + at, from, n);
    at += n;
    nb[at++] = ']';
    nb[at] = 0;
    xfree(*body);
    *body = nb;
    *len = at;
    *parts += addparts;
}

json_t *evbatch_split(const void *body, size_t len)
{
    const char *p = body, *end = p + len;
    json_t *a;

    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p == end || *p != '[')
        return NULL;
    a = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > EVBATCH_PARTS_MAX) {
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!json_is_object(json_array_get(a, i))) {
            json_decref(a);
            return NULL;
        }
    return a;
}
