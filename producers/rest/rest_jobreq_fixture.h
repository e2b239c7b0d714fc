/*
 * rest_jobreq_fixture - the test account of the JobRequest unit tests
 * (rest_jobreq_test.c, rest_jobreq_data_test.c). Test code only.
 */
#ifndef REST_JOBREQ_FIXTURE_H
#define REST_JOBREQ_FIXTURE_H

#include "producers/rest/rest_jobreq.h"

#include <jansson.h>
#include <stddef.h>

#define REST_JOBREQ_FIXTURE_JOB_ID "0192f3a4-5b6c-7d8e-9f00-112233445566"

/* the parts of a minimal request, written with ' for " */
#define FROM "'mail':{'from':{'email':'Sender <sender@example.com>'}}"
#define RCPT "'recipients':[{'mail':{'to':[{'email':'to@example.org'}]}}]"
#define BASE "'subject':{'content':'hi'}," RCPT "," FROM

/* the account's settings (features on, forbidden recipients and senders) and stages */
extern const char *const rest_jobreq_fixture_settings;
extern const char *const rest_jobreq_fixture_stages;

/* rest_jobreq_fixture_sender_domain - example.com and relay.test (relay) exist; dbdown.test: TX_RETRY_DB */
enum tx_code rest_jobreq_fixture_sender_domain(void *arg, const char *domain,
                                               struct jobreq_sender *out);
/* rest_jobreq_fixture_suppression - bounced@ and manual@example.org are suppressed */
enum tx_code rest_jobreq_fixture_suppression(void *arg, struct suppress_query *q, size_t n);
/* rest_jobreq_fixture_json - a JSON text written with ' for ". Ownership: new. */
char *rest_jobreq_fixture_json(const char *s);
/* rest_jobreq_fixture_env - the test account's environment: settings st, stages stg (NULL: the default) */
struct jobreq_env rest_jobreq_fixture_env(json_t *st, const char *stg, const char *tenant);
/* rest_jobreq_fixture_run - rest_jobreq_run over text (' for "), settings (NULL: the default) and stg */
int rest_jobreq_fixture_run(const char *text, const char *settings, const char *stg,
                            struct jobreq_result *res);
/* rest_jobreq_fixture_path - the member at a dotted path ("blocks.0.to.1.rid"), or NULL */
json_t *rest_jobreq_fixture_path(json_t *root, const char *p);
#define SVAL(root, p) json_string_value(rest_jobreq_fixture_path(root, p))

#endif
