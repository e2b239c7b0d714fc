/*
 * scan_job - the parts of one job and both engines on each.
 *
 * REST jobs: data.attachments[] (base64 in "data"/"content" or a raw
 * segment "raw": [offset, length] of the envelope's raw part, decoded
 * here) are the attachments; data.body and data.alternative ("text", or
 * the raw segment "textRaw") the body. SMTP jobs: the submitted message
 * (the envelope's raw part) walked with mimeparts.h: attachments and body
 * parts as it classifies them, each decoded from its transfer encoding;
 * with scope "all" the whole message is scanned once more by libclamav,
 * whose own mail parser then covers what the walk cannot see
 * (message/partial fragments, broken structures). A message nested deeper
 * than MIMEPARTS_DEPTH is a find ("Txmail.Limits.MimeDepth"): never
 * passed half-scanned.
 *
 * Both engines are held for the whole job (one signature set per job).
 * Every part is scanned by both; every find is recorded.
 */
#include "global/scan/mimeparts.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/jsonget.h"
#include "workers/scan/scan_stage.h"

#include <stdio.h>
#include <string.h>

struct run {
    struct scan_engine *ce;
    struct yarascan_rules *yr;
    struct scan_job_result *res;
    const struct envelope *env;
};

enum scan_job_scope scan_job_scope_of(json_t *data)
{
    json_t *av = json_object_get(json_object_get(data, "options"), "antivirus");
    const char *s = jsonget_str(av, "scope");

    json_t *sd = json_object_get(json_object_get(data, "options"), "secureDocument");

    /* contract §16.3: with Secure Document Handling the scan covers at least the attachments */
    if (s && strcmp(s, "body") == 0)
        return jsonget_bool(sd, "active") ? SCAN_SCOPE_ALL : SCAN_SCOPE_BODY;
    if (s && strcmp(s, "all") == 0)
        return SCAN_SCOPE_ALL;
    return SCAN_SCOPE_ATTACHMENTS;
}

const char *scan_job_scope_name(enum scan_job_scope s)
{
    return s == SCAN_SCOPE_BODY ? "body" : s == SCAN_SCOPE_ALL ? "all" : "attachments";
}

/* add_name - name into res->names once */
static void add_name(struct scan_job_result *res, const char *name)
{
    size_t n = strlen(res->names), k = strlen(name);
    const char *p = res->names;

    while ((p = strstr(p, name)) != NULL) {
        if ((p == res->names || (p - res->names >= 2 && p[-2] == ',')) &&
            (p[k] == 0 || p[k] == ','))
            return;
        p += k;
    }
    snprintf(res->names + n, sizeof(res->names) - n, "%s%s", n ? ", " : "", name);
}

static void hit(struct run *r, const char *label, int attachment, const char *engine,
                const char *sig)
{
    json_array_append_new(r->res->infected, json_pack("{s:s,s:s,s:s}", "part", label, "engine",
                                                      engine, "signature", sig));
    if (attachment)
        add_name(r->res, label);
    else
        r->res->body_hit = 1;
}

static void error(struct run *r, const char *what, const char *err)
{
    if (!r->res->error)
        snprintf(r->res->err, sizeof(r->res->err), "%s: %s", what, err);
    r->res->error = 1;
}

/* part - one decoded part through both engines (clam_only: libclamav alone) */
static void part(struct run *r, const char *label, int attachment, const void *data, size_t len,
                 int clam_only)
{
    struct scan_result sr;
    enum scan_verdict v;

    r->res->parts++;
    r->res->bytes += (long long)len;
    v = scan_engine_buffer(r->ce, data, len, &sr);
    if (v == SCAN_INFECTED)
        hit(r, label, attachment, "clamav", sr.virus);
    else if (v == SCAN_ERROR)
        error(r, "clamav", sr.err);
    if (clam_only)
        return;
    v = yarascan_rules_buffer(r->yr, data, len, &sr);
    if (v == SCAN_INFECTED)
        hit(r, label, attachment, "yara", sr.virus);
    else if (v == SCAN_ERROR)
        error(r, "yara", sr.err);
}

/* value - a member's string, else its raw segment named by seg_key */
static const char *value(const struct envelope *env, json_t *o, const char *key,
                         const char *seg_key, size_t *len)
{
    json_t *v = json_object_get(o, key);

    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    return envelope_raw_segment(env, json_object_get(o, seg_key), len);
}

static void rest_attachments(struct run *r, json_t *data)
{
    json_t *a;
    size_t i, len;
    char label[SCAN_NAME_MAX];

    json_array_foreach (json_object_get(data, "attachments"), i, a) {
        const char *b64 = value(r->env, a, "data", "raw", &len), *name = jsonget_str(a, "name");
        struct buf dec;
        if (b64 == NULL)
            b64 = value(r->env, a, "content", "raw", &len);
        if (name == NULL || *name == 0) {
            snprintf(label, sizeof(label), "attachment-%zu", i + 1);
            name = label;
        }
        if (b64 == NULL) {
            part(r, name, 1, "", 0, 0);
            continue;
        }
        buf_init(&dec, len + 16);
        /* not base64 after all: the bytes as they are (render would send them so) */
        if (codec_b64_decode(&dec, b64, len, 1) < 0)
            part(r, name, 1, b64, len, 0);
        else
            part(r, name, 1, dec.data ? dec.data : "", dec.len, 0);
        buf_free(&dec);
    }
}

static void rest_body(struct run *r, json_t *data)
{
    static const char *const keys[] = {"body", "alternative"};
    size_t len;

    for (int k = 0; k < 2; k++) {
        json_t *o = json_object_get(data, keys[k]);
        const char *t = json_is_object(o) ? value(r->env, o, "text", "textRaw", &len) : NULL;
        if (t == NULL && json_is_object(o))
            t = value(r->env, o, "content", "textRaw", &len);
        if (t)
            part(r, "body", 0, t, len, 0);
    }
}

static int smtp_part(const struct mimeparts_part *p, void *ctx)
{
    struct run *r = ctx;
    enum scan_job_scope s = r->res->scope;
    char label[SCAN_NAME_MAX];

    if (p->attachment ? s == SCAN_SCOPE_BODY : s == SCAN_SCOPE_ATTACHMENTS)
        return 0;
    if (p->attachment && p->name)
        snprintf(label, sizeof(label), "%s", p->name);
    else if (p->attachment)
        snprintf(label, sizeof(label), "part-%d", p->index);
    else
        snprintf(label, sizeof(label), "body");
    part(r, label, p->attachment, p->data, p->len, 0);
    return 0;
}

static void smtp_message(struct run *r)
{
    struct mimeparts_info info;
    const struct envelope *env = r->env;

    if (mimeparts_walk(env->raw, env->raw_len, smtp_part, r, &info) < 0) {
        /* not a message GMime can open: every byte is content */
        part(r, "message", 0, env->raw, env->raw_len, 0);
        return;
    }
    if (info.deeper > 0)
        hit(r, "message", 0, "txmail", "Txmail.Limits.MimeDepth");
    if (r->res->scope == SCAN_SCOPE_ALL)
        part(r, "message", 0, env->raw, env->raw_len, 1);
}

void scan_job_check(const struct scan_job_engines *en, const struct envelope *env,
                    struct scan_job_result *res)
{
    struct run r = {NULL, NULL, res, env};
    const char *entry = jsonget_str(env->data, "entry");
    char err[SCAN_ERR_MAX];

    memset(res, 0, sizeof(*res));
    res->infected = json_array();
    res->scope = scan_job_scope_of(env->data);
    if ((r.ce = scan_acquire(en->clam, err, sizeof(err))) == NULL)
        error(&r, "clamav", err);
    if ((r.yr = yarascan_acquire(en->yara, err, sizeof(err))) == NULL)
        error(&r, "yara", err);
    if (r.ce && r.yr) {
        res->clam_sigs = scan_engine_signatures(r.ce);
        res->yara_rules = yarascan_rules_count(r.yr);
        res->clam_id = r.ce;
        res->yara_id = r.yr;
        if (entry && strcmp(entry, "smtp") == 0) {
            smtp_message(&r);
        } else {
            if (res->scope != SCAN_SCOPE_BODY)
                rest_attachments(&r, env->data);
            if (res->scope != SCAN_SCOPE_ATTACHMENTS)
                rest_body(&r, env->data);
        }
    }
    yarascan_release(en->yara, r.yr);
    scan_release(en->clam, r.ce);
}

void scan_job_result_free(struct scan_job_result *res)
{
    json_decref(res->infected);
    res->infected = NULL;
}
