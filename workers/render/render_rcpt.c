/*
 * render_rcpt - the recipients of a job's data: one address element as a
 * render_rcpt, the address check, and the PROCESSING_FAILED events of
 * the addresses a failed job leaves unrendered.
 */
#include "workers/render/render.h"
#include "global/addr.h"

#include <string.h>

int render_rcpt_addr_ok(const char *a)
{
    struct addr tmp;
    size_t n = a ? strlen(a) : 0;

    if (n == 0 || n > 320)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a[i] <= 0x20 || a[i] == '<' || a[i] == '>' || a[i] == 0x7f)
            return 0;
    return addr_parse_bare(a, n, &tmp) == 0;
}

int render_rcpt_from_json(json_t *a, const char *kind, const char *reference, struct render_rcpt *r)
{
    json_t *drop;

    memset(r, 0, sizeof(*r));
    if (!json_is_object(a))
        return -1;
    r->rid = jsonget_str(a, "rid");
    r->email = jsonget_str(a, "email");
    r->addr = jsonget_str(a, "addr");
    r->display = jsonget_str(a, "display");
    r->kind = kind;
    r->reference = reference;
    r->utf8 = jsonget_bool(a, "utf8");
    drop = json_object_get(a, "drop");
    if (json_is_object(drop)) {
        const char *st = jsonget_str(drop, "subType");
        r->dropped = 1;
        r->invalid = st && strcmp(st, "INVALID_ADDRESS") == 0;
    }
    if (r->rid == NULL)
        return -1;
    if (r->email == NULL)
        r->email = r->addr;
    if (r->addr == NULL && !r->dropped)
        return -1;
    return 0;
}

/* fail_list - PROCESSING_FAILED for the undropped addresses of one list, from index skip on */
static void fail_list(struct render_run *run, json_t *list, const char *kind, const char *ref,
                      long long *seen, long long skip, const char *why)
{
    size_t i;
    json_t *a;

    json_array_foreach (list, i, a) {
        struct render_rcpt r;
        if (render_rcpt_from_json(a, kind, ref, &r) < 0 || r.dropped)
            continue;
        if ((*seen)++ < skip)
            continue;
        render_emit_failed(run, &r, why);
    }
}

void render_rcpt_fail_remaining(struct render_run *run, const char *why)
{
    json_t *data = run->job->env.data, *cursor = json_object_get(data, "cursor");
    long long cb = json_integer_value(json_object_get(cursor, "block"));
    long long cc = json_integer_value(json_object_get(cursor, "copy"));
    const char *entry = jsonget_str(data, "entry");
    size_t i;
    json_t *v;

    if (entry && strcmp(entry, "smtp") == 0) { /* cursor: {block: 0, copy: n} */
        long long seen = 0;
        fail_list(run, json_object_get(data, "recipients"), "to", NULL, &seen, cc, why);
        return;
    }
    json_array_foreach (json_object_get(data, "blocks"), i, v) {
        long long seen = 0;
        if ((long long)i < cb)
            continue;
        const char *ref = jsonget_str(v, "reference");
        long long skip = (long long)i == cb ? cc : 0;
        fail_list(run, json_object_get(v, "to"), "to", ref, &seen, skip, why);
        fail_list(run, json_object_get(v, "cc"), "cc", ref, &seen, skip, why);
        fail_list(run, json_object_get(v, "bcc"), "bcc", ref, &seen, skip, why);
    }
}
