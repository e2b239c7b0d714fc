/* slip - routing slips and installed stages; see slip.h. */
#include "global/intake/slip.h"
#include "global/envelope.h"
#include "global/runtime/mq.h"

#include <stdio.h>
#include <string.h>

/* the stage each feature needs */
static const char *const needs[SLIP_NFEATURES] = {
    [SLIP_ANTIVIRUS] = "scan",       [SLIP_TRACE_RECOVER] = "scan",
    [SLIP_SECURE_DOCUMENT] = "scan", [SLIP_SECURE_ZIP] = "securezip",
    [SLIP_SPAM_CHECK] = "spamcheck", [SLIP_MESSAGE_SIGNING] = "smime",
};

/* next - the next name of the list at *p (its length in *n), or NULL at the end */
static const char *next(const char **p, size_t *n)
{
    const char *s = *p, *e;

    while (*s == ',' || *s == ' ')
        s++;
    if (*s == 0)
        return NULL;
    for (e = s; *e && *e != ',' && *e != ' '; e++)
        ;
    *n = (size_t)(e - s);
    *p = e;
    return s;
}

int slip_installed(const char *stages, const char *stage)
{
    const char *p = stages ? stages : "", *s;
    size_t n, want = strlen(stage);

    while ((s = next(&p, &n)) != NULL)
        if (n == want && strncmp(s, stage, n) == 0)
            return 1;
    return 0;
}

int slip_stages_check(const char *param, const char *stages, char *err, size_t errsz)
{
    const char *p = stages ? stages : "", *s;
    size_t n;
    int count = 0;

    while ((s = next(&p, &n)) != NULL) {
        int known = 0;
        for (int i = 0; mq_stages[i]; i++)
            known |= strlen(mq_stages[i]) == n && strncmp(mq_stages[i], s, n) == 0;
        if (!known) {
            snprintf(err, errsz, "%s: unknown stage \"%.*s\"", param, (int)(n > 40 ? 40 : n), s);
            return -1;
        }
        if (++count > ENVELOPE_MAX_SLIP) {
            snprintf(err, errsz, "%s: too many stages", param);
            return -1;
        }
    }
    if (!slip_installed(stages, "render") || !slip_installed(stages, "deliver")) {
        snprintf(err, errsz, "%s: render and deliver are needed", param);
        return -1;
    }
    return 0;
}

const char *slip_stage_of(enum slip_feature f)
{
    return needs[f];
}

int slip_offers(const char *stages, enum slip_feature f)
{
    return slip_installed(stages, needs[f]);
}

int slip_build(const char *stages, const struct slip_features *f, char *out, size_t outsz,
               enum slip_feature *missing)
{
    size_t o = 0;

    out[0] = 0;
    for (int k = 0; k < SLIP_NFEATURES; k++)
        if (f->on[k] && !slip_offers(stages, (enum slip_feature)k)) {
            *missing = (enum slip_feature)k;
            return -1;
        }
    /* the stages in the order of mq_stages, up to deliver */
    for (int i = 0; mq_stages[i]; i++) {
        int on = strcmp(mq_stages[i], "render") == 0 || strcmp(mq_stages[i], "deliver") == 0;
        for (int k = 0; k < SLIP_NFEATURES && !on; k++)
            on = f->on[k] && strcmp(needs[k], mq_stages[i]) == 0;
        if (on)
            o += (size_t)snprintf(out + o, o < outsz ? outsz - o : 0, "%s%s", o ? "," : "",
                                  mq_stages[i]);
        if (strcmp(mq_stages[i], "deliver") == 0)
            break;
    }
    return 0;
}
