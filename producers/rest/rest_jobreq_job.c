/*
 * rest_jobreq_job - "job" (contract §4.10): references, tracking switches,
 * job.options (§16) and the top-level secureDocument alias (§16.3); then
 * rest_jobreq_job_effective(): each option after the account defaults, the implied
 * antivirus scan (Trace & Recover, Secure Document Handling), and the
 * stages the job needs.
 *
 * Switching a feature on that the account has not enabled, or that needs
 * a stage this installation does not run (rest_stages), is refused with
 * 403 FORBIDDEN_BY_CONFIG for the switch's path.
 */
#include "producers/rest/rest_jobreq_int.h"
#include "global/account.h"
#include "global/intake/slip.h"

#include <math.h>
#include <string.h>

static const char *const scopes[] = {"attachments", "body", "all", NULL};
static const char *const modes[] = {"score-only", "block-above", NULL};
static const char *const pwtypes[] = {"medium", "high", "very_high", NULL};

#define SPAM_THRESHOLD_MIN -100.0
#define SPAM_THRESHOLD_MAX 1000.0

/* switch_on - active:true needs the account feature and the stage (slip.h) */
static int switch_on(struct jr *v, struct jr_val *val, const char *feature, enum slip_feature f)
{
    if (!val->b)
        return 0;
    if (!rest_jobreq_walk_feature(v, feature) || !slip_offers(v->env->stages, f))
        return rest_jobreq_walk_fail(v, JR_E_CONFIG);
    return 0;
}

static int av_active(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return switch_on(v, val, "antivirus", SLIP_ANTIVIRUS);
}

static int tr_active(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return switch_on(v, val, "traceRecover", SLIP_TRACE_RECOVER);
}

static int sd_active(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return switch_on(v, val, "secureDocument", SLIP_SECURE_DOCUMENT);
}

static int sc_active(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return switch_on(v, val, "spamCheck", SLIP_SPAM_CHECK);
}

static int ms_active(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return switch_on(v, val, "messageSigning", SLIP_MESSAGE_SIGNING);
}

static int threshold_check(struct jr *v, struct jr_val *val, void *out)
{
    double t = json_number_value(val->j);

    (void)out;
    if (!isfinite(t) || t < SPAM_THRESHOLD_MIN || t > SPAM_THRESHOLD_MAX)
        return rest_jobreq_walk_fail(v, JR_E_VALUE);
    return 0;
}

static int filename_format(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    if (rest_jobreq_walk_has_ctl(val->s, val->len) || memchr(val->s, '/', val->len) ||
        memchr(val->s, '\\', val->len))
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    return 0;
}

static const struct jr_field password_fields[] = {
    {"type", JR_STR, 0, 0, pwtypes, JR_AT(struct jr_sdh, password_type), NULL, NULL, NULL, NULL},
    {0},
};

static int password_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, password_fields, out);
}

static const struct jr_field sdh_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_sdh, active), NULL, NULL, NULL, sd_active},
    {"filename", JR_STR, 0, 200, NULL, JR_AT(struct jr_sdh, filename), NULL, NULL, filename_format,
     NULL},
    {"subjectPrefix", JR_STR, JR_HEADER, 998, NULL, JR_AT(struct jr_sdh, prefix), NULL, NULL, NULL,
     NULL},
    {"password", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_sdh, password_o), NULL, NULL, NULL,
     password_then},
    {0},
};

static const struct jr_field av_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_opts, av_active), NULL, NULL, NULL, av_active},
    {"scope", JR_STR, 0, 0, scopes, JR_AT(struct jr_opts, av_scope), NULL, NULL, NULL, NULL},
    {0},
};
static const struct jr_field tr_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_opts, tr_active), NULL, NULL, NULL, tr_active},
    {0},
};
static const struct jr_field sc_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_opts, sc_active), NULL, NULL, NULL, sc_active},
    {"mode", JR_STR, 0, 0, modes, JR_AT(struct jr_opts, sc_mode), NULL, NULL, NULL, NULL},
    {"threshold", JR_NUM, 0, 0, NULL, JR_AT(struct jr_opts, sc_threshold), NULL, NULL, NULL,
     threshold_check},
    {0},
};
static const struct jr_field ms_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_opts, ms_active), NULL, NULL, NULL, ms_active},
    {0},
};

static int av_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, av_fields, out);
}

static int tr_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, tr_fields, out);
}

static int sd_then(struct jr *v, struct jr_val *val, void *out)
{
    struct jr_opts *o = out;

    return rest_jobreq_walk_object(v, val->j, sdh_fields, &o->sd);
}

static int sc_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, sc_fields, out);
}

static int ms_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, ms_fields, out);
}

static const struct jr_field options_fields[] = {
    {"antivirus", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_opts, av_o), NULL, NULL, NULL, av_then},
    {"traceRecover", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_opts, tr_o), NULL, NULL, NULL, tr_then},
    {"secureDocument", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_opts, sd_o), NULL, NULL, NULL, sd_then},
    {"spamCheck", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_opts, sc_o), NULL, NULL, NULL, sc_then},
    {"messageSigning", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_opts, ms_o), NULL, NULL, NULL, ms_then},
    {0},
};

static const struct jr_field open_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_job, open), NULL, NULL, NULL,
     rest_jobreq_rcpt_tracking_then},
    {0},
};
static const struct jr_field link_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_job, link), NULL, NULL, NULL,
     rest_jobreq_rcpt_tracking_then},
    {0},
};

static int open_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, open_fields, out);
}

static int link_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, link_fields, out);
}

static const struct jr_field feature_fields[] = {
    {"openTracking", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_job, open_o), NULL, NULL, NULL, open_then},
    {"linkTracking", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_job, link_o), NULL, NULL, NULL, link_then},
    {0},
};

static int features_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, feature_fields, out);
}

static int options_then(struct jr *v, struct jr_val *val, void *out)
{
    struct jr_job *j = out;

    return rest_jobreq_walk_object(v, val->j, options_fields, &j->o);
}

static const struct jr_field job_fields[] = {
    {"referenceJob", JR_STR, 0, 50, NULL, JR_AT(struct jr_job, reference_job), NULL, NULL, NULL,
     NULL},
    {"costCenter", JR_STR, 0, 50, NULL, JR_AT(struct jr_job, cost_center), NULL, NULL, NULL, NULL},
    {"campaignId", JR_STR, 0, 50, NULL, JR_AT(struct jr_job, campaign_id), NULL, NULL, NULL, NULL},
    {"features", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_job, features), NULL, NULL, NULL,
     features_then},
    {"options", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_job, options), NULL, NULL, NULL, options_then},
    {0},
};

int rest_jobreq_job_check(struct jr *v, struct jr_val *val)
{
    return rest_jobreq_walk_object(v, val->j, job_fields, &v->job);
}

/* rest_jobreq_job_alias - the top-level secureDocument; job.options.secureDocument wins when both are sent */
int rest_jobreq_job_alias(struct jr *v, struct jr_val *val)
{
    if (v->job.o.sd_o.j)
        return 0;
    return rest_jobreq_walk_object(v, val->j, sdh_fields, &v->alias);
}

/* dflt - an account default, only where the account has the feature */
static int dflt(struct jr *v, const char *feature, const char *name)
{
    return rest_jobreq_walk_feature(v, feature) && account_default_bool(v->env->settings, name);
}

static const char *dflt_str(struct jr *v, const char *name, const char *const *allowed,
                            const char *fallback)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(v->env->settings, "defaults"), name));

    for (; s && *allowed; allowed++)
        if (strcmp(*allowed, s) == 0)
            return *allowed;
    return fallback;
}

/* need - a switch on by account default only: its stage must exist too */
static int need(struct jr *v, int on, enum slip_feature f, const char *path)
{
    if (on && !slip_offers(v->env->stages, f))
        return rest_jobreq_walk_fail_path(v, JR_E_CONFIG, path);
    return 0;
}

/* rest_jobreq_job_effective - every option after account defaults (§4.10, §16) */
int rest_jobreq_job_effective(struct jr *v)
{
    struct jr_effective *e = &v->eff;
    struct jr_opts *o = &v->job.o;
    struct jr_sdh *sd = o->sd_o.j ? &o->sd : &v->alias;
    json_t *dft = json_object_get(v->env->settings, "defaults");

    e->sd_path =
        o->sd_o.j || !v->alias_o.j ? "job.options.secureDocument.active" : "secureDocument.active";
    e->av = rest_jobreq_walk_bool(&o->av_active, dflt(v, "antivirus", "antivirus"));
    e->tr = rest_jobreq_walk_bool(&o->tr_active, dflt(v, "traceRecover", "traceRecover"));
    e->sd = rest_jobreq_walk_bool(&sd->active, dflt(v, "secureDocument", "secureDocument"));
    e->sc = rest_jobreq_walk_bool(&o->sc_active, dflt(v, "spamCheck", "spamCheck"));
    e->ms = rest_jobreq_walk_bool(&o->ms_active, dflt(v, "messageSigning", "messageSigning"));
    if (need(v, e->av && !o->av_active.j, SLIP_ANTIVIRUS, "job.options.antivirus.active") < 0 ||
        need(v, e->tr && !o->tr_active.j, SLIP_TRACE_RECOVER, "job.options.traceRecover.active") <
            0 ||
        need(v, e->sd && !sd->active.j, SLIP_SECURE_DOCUMENT, e->sd_path) < 0 ||
        need(v, e->sc && !o->sc_active.j, SLIP_SPAM_CHECK, "job.options.spamCheck.active") < 0 ||
        need(v, e->ms && !o->ms_active.j, SLIP_MESSAGE_SIGNING,
             "job.options.messageSigning.active") < 0)
        return -1;
    e->av_scope =
        rest_jobreq_walk_str(&o->av_scope, dflt_str(v, "antivirusScope", scopes, "attachments"));
    /* Trace & Recover and Secure Document Handling imply the scan (§16.2, §16.3) */
    if (e->tr || e->sd) {
        if (e->sd && strcmp(e->av_scope, "body") == 0)
            e->av_scope = "all";
        e->av = 1;
    }
    e->sc_mode = rest_jobreq_walk_str(&o->sc_mode, dflt_str(v, "spamMode", modes, "score-only"));
    json_t *th = json_object_get(dft, "spamThreshold");
    e->sc_threshold = o->sc_threshold.j    ? json_number_value(o->sc_threshold.j)
                      : json_is_number(th) ? json_number_value(th)
                                           : 5.0;
    e->sd_filename = rest_jobreq_walk_str(&sd->filename, "documents");
    e->sd_prefix = rest_jobreq_walk_str(&sd->prefix, "Password for:");
    e->sd_pwtype = rest_jobreq_walk_str(&sd->password_type,
                                        dflt_str(v, "secureDocumentPasswordType", pwtypes, "high"));
    e->open = rest_jobreq_walk_bool(&v->job.open, dflt(v, "tracking", "openTracking"));
    e->link = rest_jobreq_walk_bool(&v->job.link, dflt(v, "tracking", "linkTracking"));
    return 0;
}
