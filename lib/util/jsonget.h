/*
 * jsonget - typed reads of one member of a jansson object. Every getter
 * accepts a NULL or non-object o and a missing or wrong-typed member, and
 * then answers "absent" (NULL, 0 or -1 as documented), so chains like
 * jsonget_str(json_object_get(d, "mail"), "subject") need no checks.
 */
#ifndef TX_JSONGET_H
#define TX_JSONGET_H

#include <jansson.h>
#include <stddef.h>

/*
 * jsonget_str - the string member key of o; NULL when absent or not a
 * string. Ownership: borrowed (valid while o holds the member).
 */
const char *jsonget_str(const json_t *o, const char *key);
/* jsonget_str_nonempty - jsonget_str(), but NULL for "" too */
const char *jsonget_str_nonempty(const json_t *o, const char *key);
/*
 * jsonget_strbuf - copy the string member key of o into dst (NUL
 * terminated). 0 when copied, or when it is absent and not required (dst
 * untouched); -1 when it is absent and required, not a string, or does
 * not fit (dstsz bytes, NUL included).
 */
int jsonget_strbuf(const json_t *o, const char *key, char *dst, size_t dstsz, int required);
/* jsonget_bool - 1 when member key is JSON true or the string "true", else 0 */
int jsonget_bool(const json_t *o, const char *key);

#endif
