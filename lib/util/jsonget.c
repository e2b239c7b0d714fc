/*
 * jsonget - typed member reads over jansson (json_object_get() already
 * answers NULL for a NULL or non-object o).
 */
#include "util/jsonget.h"

#include <string.h>

const char *jsonget_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

const char *jsonget_str_nonempty(const json_t *o, const char *key)
{
    const char *s = jsonget_str(o, key);

    return s && *s ? s : NULL;
}

int jsonget_strbuf(const json_t *o, const char *key, char *dst, size_t dstsz, int required)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL)
        return required ? -1 : 0;
    if (!json_is_string(v) || json_string_length(v) >= dstsz)
        return -1;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

int jsonget_bool(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return json_is_true(v);
}
