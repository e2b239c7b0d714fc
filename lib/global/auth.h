/*
 * auth - who is calling: credentials (HTTP Basic, SMTP AUTH) and
 * source-IP authentication against the credential table, and the sender
 * domains of an account. Shared by txmail-rest and txmail-smtpd.
 *
 * Verified credentials are cached in memory for auth_cache_ttl (60 s) under
 * SHA-256(user ":" password), so the KDF (PBKDF2, ~100 ms) is not paid per
 * request; the source-IP allow-list is checked on every call. Failures are
 * not cached. Thread-safe.
 */
#ifndef TX_AUTH_H
#define TX_AUTH_H

#include "global/db.h"
#include "global/txcode.h"

#include <jansson.h>

struct auth_account {
    long long id;
    long long credential_id;
    char name[101];
    char customer_no[51];
    char tenant[101];
    json_t *settings;            /* merged over defaults; owned */
    long long capacity_per_hour;
};

struct sender_domain {
    long long id;
    long long account_id;
    char domain[254];
    int tls_enforced;
    char relay_host[256];
    char tracking_host[256];
    char bounce_domain[254];
    char message_id_domain[254];
    char dkim_policy[12];
    char archive_bcc[255];
};

/*
 * auth_basic - check user/password and the credential's allow-list for
 * client_ip. TX_OK with out filled; TX_REJECT_POLICY for wrong or missing
 * credentials or a source IP not allowed (indistinguishable to callers);
 * TX_RETRY_DB when the database is unavailable.
 */
enum tx_code auth_basic(struct db *db, const char *user, const char *password,
                        const char *client_ip, struct auth_account *out);
/* auth_by_ip - the account of the credential with ip_auth whose allow-list holds ip */
enum tx_code auth_by_ip(struct db *db, const char *client_ip, struct auth_account *out);
/* auth_account_free - release what auth_* filled in */
void auth_account_free(struct auth_account *a);
/* auth_ip_allowed - ip is one of the comma-separated list (NULL/empty list = any) */
int auth_ip_allowed(const char *list, const char *ip);
/*
 * auth_sender_domain - the sender domain registered for account_id
 * (lowercase A-label). TX_OK, TX_REJECT_POLICY when not registered,
 * TX_RETRY_DB. Cached for the same TTL.
 */
enum tx_code auth_sender_domain(struct db *db, long long account_id, const char *domain,
                                struct sender_domain *out);
/* auth_cache_clear - forget everything cached (tests, SIGHUP) */
void auth_cache_clear(void);
extern int64_t auth_cache_ttl_ms;

#endif
