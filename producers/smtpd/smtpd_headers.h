/*
 * smtpd_headers - the X-RETARUS-M4A-* headers of a submitted message
 * (contract §17.5): read, validated with the exact replies of §17.3,
 * turned into job options, reference fields and the notification
 * endpoint of the job row.
 *
 * Names are matched case-insensitively; replies name the header in its
 * canonical upper-case form. A header other than NOTIFICATION-HEADER that
 * occurs more than once refuses the message before it gets here
 * (smtpd_msghdr_parse: a second control header could be read by someone
 * else); should one arrive anyway, only the first is used. Unknown
 * X-RETARUS-M4A-* headers are ignored. Every one of them is removed from
 * the message by the caller.
 */
#ifndef TX_SMTPD_HEADERS_H
#define TX_SMTPD_HEADERS_H

#include <jansson.h>
#include <stddef.h>

#define SMTPD_M4A_PREFIX "X-RETARUS-M4A-"

struct smtpd_m4a {
    char *url;
    json_t *headers;      /* NOTIFICATION-HEADER key -> value (first key wins) */
    size_t headers_total; /* characters of every NOTIFICATION-HEADER value */
    int nheaders;         /* NOTIFICATION-HEADER fields seen */
    char *auth_method, *auth_user, *auth_password;
    char *reference, *campaign_id, *cost_center;
    int antivirus, trace_recover, message_signing; /* -1 absent, 0, 1 */
    unsigned seen; /* headers already taken (first occurrence wins) */
};

void smtpd_headers_m4a_init(struct smtpd_m4a *m);
/* smtpd_headers_m4a_free - release everything; the password is wiped */
void smtpd_headers_m4a_free(struct smtpd_m4a *m);
/* smtpd_headers_m4a_is - name[0..len) starts with X-RETARUS-M4A- */
int smtpd_headers_m4a_is(const char *name, size_t len);
/*
 * smtpd_headers_m4a_field - take one X-RETARUS-M4A-* field (value as in the
 * message, folds included). 0, or -1 with the 554 reply in reply.
 */
int smtpd_headers_m4a_field(struct smtpd_m4a *m, const char *name, size_t nlen, const char *value,
                            size_t vlen, char *reply, size_t rsz);
/* smtpd_headers_m4a_complete - the notification headers are complete; -1 with the 554 reply */
int smtpd_headers_m4a_complete(const struct smtpd_m4a *m, char *reply, size_t rsz);
/* smtpd_headers_m4a_any_notification - a NOTIFICATION-* header was given */
int smtpd_headers_m4a_any_notification(const struct smtpd_m4a *m);
/*
 * smtpd_headers_m4a_endpoint - the job row's notification endpoint, the contract
 * §4.11 endPoint object {"url",["headers"],["authentication"]} with the
 * password encrypted (crypto.h crypto_secret_encrypt). *out NULL when no
 * notification header was given. -1 when the password cannot be
 * encrypted (no master key). Ownership: *out is new.
 */
int smtpd_headers_m4a_endpoint(const struct smtpd_m4a *m, char **out);

#endif
