/*
 * rest_jobreq_fixture - what the JobRequest unit tests share: a test
 * account with its settings, sender domains and suppressions, and a run of
 * the check on JSON written with ' for ".
 */
#include "producers/rest/rest_jobreq_fixture.h"
#include "global/account.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const rest_jobreq_fixture_stages = "render,deliver";
const char *const rest_jobreq_fixture_settings =
    "{\"features\":{\"tracking\":true,\"templates\":true,\"antivirus\":true,"
    "\"secureDocument\":true},\"forbiddenRecipients\":[\"admin\"],"
    "\"forbiddenSenders\":[\"noreply\"]}";

enum tx_code rest_jobreq_fixture_sender_domain(void *arg, const char *domain,
                                               struct jobreq_sender *out)
{
    (void)arg;
    if (strcmp(domain, "dbdown.test") == 0)
        return TX_RETRY_DB;
    if (strcmp(domain, "example.com") != 0 && strcmp(domain, "relay.test") != 0)
        return TX_REJECT_POLICY;
    memset(out, 0, sizeof(*out));
    out->id = 3;
    snprintf(out->domain, sizeof(out->domain), "%s", domain);
    out->relay = strcmp(domain, "relay.test") == 0;
    return TX_OK;
}

enum tx_code rest_jobreq_fixture_suppression(void *arg, struct suppress_query *q, size_t n)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(q[i].addr, "bounced@example.org") == 0) {
            q[i].hit = 1;
            snprintf(q[i].entry.type, sizeof(q[i].entry.type), "PREVIOUSLY_BOUNCED");
            q[i].entry.created_ms = 1746871200000LL; /* 2025-05-10T10:00:00.000Z */
            snprintf(q[i].entry.reason, sizeof(q[i].entry.reason), "550 5.1.1 user unknown");
        } else if (strcmp(q[i].addr, "manual@example.org") == 0) {
            q[i].hit = 1;
            snprintf(q[i].entry.type, sizeof(q[i].entry.type), "MANUAL");
            q[i].entry.created_ms = 1746957600000LL; /* 2025-05-11T10:00:00.000Z */
        }
    }
    return TX_OK;
}

/* rest_jobreq_fixture_json - a JSON text written with ' for " */
char *rest_jobreq_fixture_json(const char *s)
{
    char *o = xstrdup(s);
    for (char *p = o; *p; p++)
        if (*p == '\'')
            *p = '"';
    return o;
}

/* rest_jobreq_fixture_env - the test account's environment: settings st, stages stg (NULL: the default) */
struct jobreq_env rest_jobreq_fixture_env(json_t *st, const char *stg, const char *tenant)
{
    struct jobreq_env env = {st,
                             7,
                             "acct",
                             "4711",
                             tenant,
                             stg ? stg : rest_jobreq_fixture_stages,
                             REST_JOBREQ_FIXTURE_JOB_ID,
                             1747212950817LL,
                             rest_jobreq_fixture_sender_domain,
                             rest_jobreq_fixture_suppression,
                             NULL};

    return env;
}

/* rest_jobreq_fixture_run - rest_jobreq_run over text (' for "), settings (NULL: the default) and stg */
int rest_jobreq_fixture_run(const char *text, const char *settings, const char *stg,
                            struct jobreq_result *res)
{
    char *body = rest_jobreq_fixture_json(text);
    json_t *st = account_settings(settings ? settings : rest_jobreq_fixture_settings);
    struct jobreq_env env = rest_jobreq_fixture_env(st, stg, NULL);
    int rc = rest_jobreq_run(body, strlen(body), &env, res);

    json_decref(st);
    xfree(body);
    return rc;
}

/* rest_jobreq_fixture_path - the member at a dotted path ("blocks.0.to.1.rid"), or NULL */
json_t *rest_jobreq_fixture_path(json_t *root, const char *p)
{
    char *copy = xstrdup(p), *t = copy;
    json_t *cur = root;

    while (t && cur) {
        char *dot = strchr(t, '.');
        if (dot)
            *dot = 0;
        if (*t >= '0' && *t <= '9')
            cur = json_array_get(cur, (size_t)strtoul(t, NULL, 10));
        else
            cur = json_object_get(cur, t);
        t = dot ? dot + 1 : NULL;
    }
    xfree(copy);
    return cur;
}
