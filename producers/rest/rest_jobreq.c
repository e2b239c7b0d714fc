/*
 * rest_jobreq - the entry of the JobRequest check; see rest_jobreq.h.
 *
 * Order (contract §6.3, steps 6-8): JSON syntax and UTF-8, with the
 * structural limits of rest_jobreq.h (LIMIT_EXCEEDED before any member is
 * looked at: the tree is never built); the top-level members in the
 * order subject, body, alternative, attachments, recipients, mail, job,
 * notification, secureDocument (each member's fields in table order);
 * the effective options; the cross-field rules; then the
 * validationResult of every address (suppression list last).
 */
#include "producers/rest/rest_jobreq_int.h"
#include "global/ids.h"
#include "global/intake/slip.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "util/msg.h"

#include <stdio.h>
#include <string.h>

static int subject_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_text_check(v, val, &v->subject);
}

static int body_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_text_check(v, val, &v->body);
}

static int alt_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_text_check(v, val, &v->alternative);
}

static int att_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_attach_check(v, val);
}

static int rcpt_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_rcpt_check(v, val);
}

static int mail_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_mail_check(v, val);
}

static int job_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_job_check(v, val);
}

static int notif_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_notify_check(v, val);
}

static int alias_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_job_alias(v, val);
}

static const struct jr_field top_fields[] = {
    {"subject", JR_OBJ, JR_MANDATORY, 0, NULL, JR_AT(struct jr, subject_o), ".content", NULL, NULL,
     subject_then},
    {"body", JR_OBJ, 0, 0, NULL, JR_AT(struct jr, body_o), NULL, NULL, NULL, body_then},
    {"alternative", JR_OBJ, 0, 0, NULL, JR_AT(struct jr, alt_o), NULL, NULL, NULL, alt_then},
    {"attachments", JR_ARR, 0, 0, NULL, JR_AT(struct jr, att_o), NULL, NULL, NULL, att_then},
    {"recipients", JR_ARR, JR_MANDATORY, 0, NULL, JR_AT(struct jr, rcpt_o), NULL, NULL, NULL,
     rcpt_then},
    {"mail", JR_OBJ, JR_MANDATORY, 0, NULL, JR_AT(struct jr, mail_o), ".from.email", NULL, NULL,
     mail_then},
    {"job", JR_OBJ, 0, 0, NULL, JR_AT(struct jr, job_o), NULL, NULL, NULL, job_then},
    {"notification", JR_OBJ, 0, 0, NULL, JR_AT(struct jr, notif_o), NULL, NULL, NULL, notif_then},
    {"secureDocument", JR_OBJ, 0, 0, NULL, JR_AT(struct jr, alias_o), NULL, NULL, NULL, alias_then},
    {0},
};

/* cross_field - step 8 of §6.3: combinations of options (§4.7, §16.3, §16.5) */
static int cross_field(struct jr *v)
{
    const struct jr_effective *e = &v->eff;
    char path[64];
    int flagged = 0;

    for (size_t i = 0; i < v->natt; i++) {
        if (!rest_jobreq_walk_bool(&v->att[i].secure, 0))
            continue;
        flagged = 1;
        if (e->sd)
            continue;
        snprintf(path, sizeof(path), "attachments[%zu].secureDocument", i);
        return rest_jobreq_walk_fail_path(
            v, rest_jobreq_walk_feature(v, "secureDocument") ? JR_E_VALUE : JR_E_CONFIG, path);
    }
    if (e->sd && e->ms)
        return rest_jobreq_walk_fail_path(v, JR_E_VALUE, "job.options.messageSigning.active");
    if (e->ms && v->sender.relay)
        return rest_jobreq_walk_fail_path(v, JR_E_CONFIG, "job.options.messageSigning.active");
    if (e->sd && flagged && !slip_offers(v->env->stages, SLIP_SECURE_ZIP))
        return rest_jobreq_walk_fail_path(v, JR_E_CONFIG, e->sd_path);
    return 0;
}

/* slip - the stages of this job (slip.h); -1 when one is not installed */
static int slip(struct jr *v, char *out, size_t outsz)
{
    const struct jr_effective *e = &v->eff;
    struct slip_features f;
    enum slip_feature missing;

    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < v->natt; i++)
        f.on[SLIP_SECURE_ZIP] |= e->sd && rest_jobreq_walk_bool(&v->att[i].secure, 0);
    f.on[SLIP_ANTIVIRUS] = e->av;
    f.on[SLIP_TRACE_RECOVER] = e->tr;
    f.on[SLIP_SECURE_DOCUMENT] = e->sd;
    f.on[SLIP_SPAM_CHECK] = e->sc;
    f.on[SLIP_MESSAGE_SIGNING] = e->ms;
    if (slip_build(v->env->stages, &f, out, outsz, &missing) < 0)
        return rest_jobreq_walk_fail(v, JR_E_CONFIG);
    return 0;
}

/* limit - the account's lower limit settings.limits.<name>, else the contract's */
static size_t limit(const struct jobreq_env *env, const char *name, size_t contract)
{
    json_t *l = json_object_get(json_object_get(env->settings, "limits"), name);

    if (json_is_integer(l) && json_integer_value(l) > 0 && (size_t)json_integer_value(l) < contract)
        return (size_t)json_integer_value(l);
    return contract;
}

static void jr_free(struct jr *v)
{
    rest_jobreq_walk_addr_free(&v->mail.from.a);
    rest_jobreq_walk_addr_free(&v->mail.mime.a);
    rest_jobreq_walk_addr_free(&v->mail.reply.a);
    for (size_t i = 0; i < v->nblocks; i++) {
        struct jr_block *b = &v->blocks[i];
        rest_jobreq_walk_addr_free(&b->m.reply.a);
        for (size_t j = 0; j < b->nrcpt; j++) {
            rest_jobreq_walk_addr_free(&b->rcpt[j].a);
            xfree(b->rcpt[j].lower);
            xfree(b->rcpt[j].drop_desc);
        }
        xfree(b->rcpt);
    }
    xfree(v->blocks);
    xfree(v->att);
    xfree(v->subject.text);
    xfree(v->body.text);
    xfree(v->alternative.text);
    buf_free(&v->scratch);
    if (v->notify.password.j)
        explicit_bzero((char *)v->notify.password.s, v->notify.password.len);
    json_decref(v->root);
}

static int syntax_error(struct jobreq_result *res, const char *msg)
{
    res->http = 400;
    res->subtype = "INVALID_JSON_SYNTAX";
    snprintf(res->description, sizeof(res->description), "%s", msg);
    return -1;
}

#define MAX_SPANS 64 /* long strings kept out of the parser, per request */

/* one long string that the parser sees as a short marker */
struct sub {
    size_t start, len, mlen; /* in the body; the marker's length */
};

/*
 * without_spans - the body with each long string value replaced by a
 * marker, for the parser: "txmail-raw-<random>-<n>" for a large
 * attachment content (struct jobreq_raw), "<str>-<k>" for any other
 * (put_back() puts it in the parsed tree, decoded). jansson reads a
 * string byte by byte through several layers, which cost more than all
 * the rest of the check. Ownership: new.
 */
static char *without_spans(const char *body, size_t len, const struct jobreq_span *sp, size_t n,
                           const char *hex, const char *str, struct jobreq_result *res,
                           struct sub *subs, size_t *outlen)
{
    struct buf b = BUF_INIT(len + 1);
    char marker[sizeof(res->raw[0].marker)];
    size_t at = 0;

    for (size_t k = 0; k < n; k++) {
        if (sp[k].raw) {
            struct jobreq_raw *raw = &res->raw[res->nraw];
            raw->att = sp[k].att;
            raw->s = body + sp[k].start;
            raw->len = sp[k].end - sp[k].start;
            snprintf(raw->marker, sizeof(raw->marker), "txmail-raw-%s-%zu", hex, res->nraw);
            snprintf(marker, sizeof(marker), "%s", raw->marker);
            res->nraw++;
        } else
            snprintf(marker, sizeof(marker), "%s-%zu", str, k);
        subs[k].start = sp[k].start;
        subs[k].len = sp[k].end - sp[k].start;
        subs[k].mlen = strlen(marker);
        buf_append(&b, body + at, sp[k].start - at);
        buf_puts(&b, marker);
        at = sp[k].end;
    }
    buf_append(&b, body + at, len - at);
    *outlen = b.len;
    char *text = buf_steal(&b, NULL);
    if (text == NULL) /* each marker is shorter than the string it stands for */
        msg_panic("without_spans: %zu bytes grew past the body", len);
    return text;
}

/* marked - the long string value that j stands for, decoded; else NULL */
static json_t *marked(json_t *j, const char *body, const struct jobreq_span *sp, size_t n,
                      const char *str)
{
    size_t sl = strlen(str), k = 0;
    const char *s;

    if (!json_is_string(j) || json_string_length(j) <= sl + 1 ||
        memcmp(s = json_string_value(j), str, sl) != 0 || s[sl] != '-')
        return NULL;
    for (s += sl + 1; *s >= '0' && *s <= '9' && k < n; s++)
        k = k * 10 + (size_t)(*s - '0');
    if (*s || k >= n || sp[k].raw)
        return NULL;
    char *text = xmalloc(sp[k].end - sp[k].start + 1);
    size_t tl = rest_jobreq_syntax_unescape(body + sp[k].start, sp[k].end - sp[k].start, text);
    /* checked by rest_jobreq_syntax_spans(): UTF-8, no NUL */
    json_t *out = json_stringn_nocheck(text, tl);
    xfree(text);
    return out;
}

/* put_back - each marker of a long string in the tree replaced by its value */
static void put_back(json_t *j, const char *body, const struct jobreq_span *sp, size_t n,
                     const char *str)
{
    json_t *el, *val;
    size_t i;

    if (json_is_object(j)) {
        for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it)) {
            el = json_object_iter_value(it);
            if ((val = marked(el, body, sp, n, str)) != NULL)
                json_object_iter_set_new(j, it, val);
            else
                put_back(el, body, sp, n, str);
        }
    } else if (json_is_array(j)) {
        json_array_foreach (j, i, el) {
            if ((val = marked(el, body, sp, n, str)) != NULL)
                json_array_set_new(j, i, val);
            else
                put_back(el, body, sp, n, str);
        }
    }
}

/* orig_pos - a position in the text given to the parser as a position in body */
static size_t orig_pos(const struct sub *subs, size_t n, size_t pos)
{
    size_t shift = 0; /* how much longer body is than the parser's text before pos */

    for (size_t k = 0; k < n; k++) {
        size_t start = subs[k].start, ml = subs[k].mlen;
        if (pos <= start - shift)
            break;
        if (pos < start - shift + ml)
            return start;
        shift += subs[k].len - ml;
    }
    return pos + shift;
}

int rest_jobreq_run(const char *body, size_t len, const struct jobreq_env *env,
                    struct jobreq_result *res)
{
    struct jr *v = xcalloc(1, sizeof(*v));
    struct jobreq_span spans[MAX_SPANS];
    struct sub subs[MAX_SPANS];
    json_error_t err;
    char msg[JOBREQ_DESC_MAX - 80], where[400], *copy = NULL, hex[25], str[40];
    const char *text = body;
    size_t nspans, tlen = len;
    int rc = -1;

    memset(res, 0, sizeof(*res));
    res->http = 200;
    switch (rest_jobreq_syntax_spans(body, len, msg, sizeof(msg), JOBREQ_RAW_MIN, spans, MAX_SPANS,
                                     &nspans)) {
    case 0:
        break;
    case JOBREQ_SYNTAX_LIMIT:
        /* a structure no valid JobRequest has: refused before jansson builds it */
        res->http = 400;
        res->subtype = "LIMIT_EXCEEDED";
        snprintf(res->description, sizeof(res->description), "%s", msg);
        goto out;
    default:
        syntax_error(res, msg);
        goto out;
    }
    if (nspans) {
        unsigned char nonce[12];
        ids_random_bytes(nonce, sizeof(nonce));
        codec_hex_encode(hex, nonce, sizeof(nonce));
        snprintf(str, sizeof(str), "txmail-str-%s", hex);
        text = copy = without_spans(body, len, spans, nspans, hex, str, res, subs, &tlen);
    }
    size_t skip = tlen >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    v->root = json_loadb(text + skip, tlen - skip, JSON_REJECT_DUPLICATES, &err);
    if (v->root == NULL) {
        enum json_error_code code = json_error_code(&err);
        rest_jobreq_syntax_where(
            body, len, orig_pos(subs, nspans, skip + (size_t)(err.position > 0 ? err.position : 0)),
            where, sizeof(where));
        snprintf(msg, sizeof(msg), "%s %s",
                 code == json_error_duplicate_key      ? "Duplicate member name"
                 : code == json_error_numeric_overflow ? "Number out of range"
                                                       : "Invalid JSON",
                 where);
        syntax_error(res, msg);
        goto out;
    }
    if (nspans > res->nraw)
        put_back(v->root, body, spans, nspans, str);
    v->env = env;
    v->res = res;
    v->subject.part = "subject";
    v->body.part = "body";
    v->alternative.part = "alternative";
    buf_init(&v->scratch, JOBREQ_BODY_MAX);
    v->max_blocks = limit(env, "recipientBlocks", JOBREQ_MAX_BLOCKS);
    v->max_addresses = limit(env, "addresses", JOBREQ_MAX_ADDRESSES);
    v->max_attachments = limit(env, "attachments", JOBREQ_MAX_ATTACHMENTS);
    if (rest_jobreq_walk_object(v, v->root, top_fields, v) < 0 ||
        rest_jobreq_job_effective(v) < 0 || cross_field(v) < 0 ||
        rest_jobreq_rcpt_classify(v) < 0 || slip(v, res->slip, sizeof(res->slip)) < 0)
        goto out;
    rest_jobreq_build(v);
    rc = 0;
out:
    if (rc < 0 && res->http == 200) {
        res->http = 500;
        res->subtype = "INTERNAL_ERROR";
        snprintf(res->description, sizeof(res->description), "Internal error");
    }
    if (rc < 0)
        res->nraw = 0;
    jr_free(v);
    xfree(v);
    xfree(copy);
    return rc;
}

void rest_jobreq_result_free(struct jobreq_result *res)
{
    if (res == NULL)
        return;
    json_decref(res->data);
    json_decref(res->content);
    if (res->notification) {
        /* the endpoint password lives here in clear: wipe it */
        json_t *pw =
            json_object_get(json_object_get(res->notification, "authentication"), "password");
        if (json_is_string(pw))
            explicit_bzero((char *)json_string_value(pw), json_string_length(pw));
        json_decref(res->notification);
    }
    res->data = res->content = res->notification = NULL;
}
