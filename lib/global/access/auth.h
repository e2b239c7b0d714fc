/*
 * auth - who is calling: credentials (HTTP Basic, SMTP AUTH) and
 * source-IP authentication against the credential table. Shared by
 * txmail-rest and txmail-smtpd (the sender domains of an account:
 * senderdomain.h).
 *
 * Verified credentials are cached in memory for auth_cache_ttl (60 s) under
 * SHA-256(user ":" password), so the KDF (PBKDF2, ~100 ms) is not paid per
 * request. The credential and account rows are read on every call, so a
 * disabled credential or account, a changed allow-list and a changed
 * password (the cache entry holds a digest of the stored hash it was
 * verified against) take effect at the next call. Failures are not cached;
 * they are counted, and password guessing is limited, by authlimit.h.
 * Thread-safe.
 *
 * An allow-list is a comma-separated list of IPv4/IPv6 addresses, of any
 * length; NULL (no list) allows every address, an empty list none.
 */
#ifndef TX_AUTH_H
#define TX_AUTH_H

#include "global/db.h"
#include "global/txcode.h"

#include <jansson.h>
#include <stdint.h>

struct auth_account {
    long long id;
    long long credential_id;
    char name[101];
    char customer_no[51];
    char tenant[101];
    json_t *settings; /* merged over defaults; owned */
    long long capacity_per_hour;
    unsigned char stamp[32]; /* digest of the password hash verified (auth_basic) */
    int by_ip;               /* authenticated by source IP (auth_by_ip) */
    int64_t checked_ms;      /* monotonic ms the credential was last found valid */
};

/*
 * auth_basic - check user/password and the credential's allow-list for
 * client_ip, within the limits of authlimit.h:
 *   TX_OK                  out filled;
 *   TX_REJECT_POLICY       wrong or missing credentials, or a source
 *                          address not allowed (indistinguishable to
 *                          callers, also in time: an unknown user costs
 *                          the KDF too);
 *   TX_RETRY_THROTTLED     too many failures of client_ip's address group
 *                          or of the user: not checked; *retry_after
 *                          seconds until it may try again;
 *   TX_RETRY_UNAVAILABLE   every KDF slot is busy: not checked;
 *                          *retry_after = 1;
 *   TX_RETRY_DB            the database is unavailable.
 * Blocking: the KDF (~100 ms) when the credential is not cached.
 */
enum tx_code auth_basic(struct db *db, const char *user, const char *password,
                        const char *client_ip, struct auth_account *out, int *retry_after);
/* auth_by_ip - the account of the credential with ip_auth whose (non-empty) allow-list holds ip */
enum tx_code auth_by_ip(struct db *db, const char *client_ip, struct auth_account *out);
/*
 * auth_recheck - is a's credential still what it was when it
 * authenticated: credential and account enabled, client_ip allowed, the
 * same password hash (or, for source-IP authentication, ip_auth still
 * set)? TX_OK (a->checked_ms renewed), TX_REJECT_POLICY, TX_RETRY_DB.
 */
enum tx_code auth_recheck(struct db *db, struct auth_account *a, const char *client_ip);
/* auth_recheck_due - a was last found valid interval_ms or longer ago */
int auth_recheck_due(const struct auth_account *a, int64_t interval_ms);
/* auth_account_free - release what auth_* filled in */
void auth_account_free(struct auth_account *a);
/* auth_ip_allowed - ip is one of the comma-separated list (NULL list = any, empty = none) */
int auth_ip_allowed(const char *list, const char *ip);
/* auth_cache_clear - forget everything cached (tests, SIGHUP) */
void auth_cache_clear(void);
extern int64_t auth_cache_ttl_ms;

#endif
