/*
 * senderdomain - the sender-domain record (the `sender_domain` row of an
 * account) and its one cache, for txmail-rest and txmail-smtpd (is the
 * domain of the sender registered?), txmail-render (DKIM, bounce and
 * tracking settings) and txmail-deliver (relay host, enforced TLS,
 * archive Bcc).
 *
 * A record is looked up by name (the lowercase A-label) or by id, always
 * within its account. Answers, "not registered" included, are kept for
 * the ttl_ms the caller gives (each program's parameter: rest/smtpd
 * auth cache TTL, render_domain_cache_ttl, deliver_domain_cache) in one
 * TTL/LRU cache (lib/util/ttlcache.h), so a change reaches every process
 * within that time without a query per message. The DKIM private keys
 * are not part of the record: it names the selectors and a fingerprint
 * of each stored key, by which a program that signs tells when to read
 * and parse a key again. Thread-safe.
 */
#ifndef TX_SENDERDOMAIN_H
#define TX_SENDERDOMAIN_H

#include "global/db.h"
#include "global/txcode.h"

#include <stdint.h>

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
    char ip_pool[65];
    char account_archive_bcc
        [255];              /* the account setting archiveBcc: where archive_bcc is "" (§16.8) */
    char dkim_selector[64]; /* RSA */
    char dkim_fp[65];       /* SHA-256 (hex) of the stored RSA key and public key; "" none */
    char dkim_ed_selector[64]; /* Ed25519 */
    char dkim_ed_fp[65];
};

/*
 * senderdomain_lookup - the record of domain (lowercase A-label) of
 * account_id: TX_OK (out filled), TX_REJECT_POLICY when not registered
 * (out zeroed), TX_RETRY_DB. Cached for ttl_ms.
 */
enum tx_code senderdomain_lookup(struct db *db, long long account_id, const char *domain,
                                 int64_t ttl_ms, struct sender_domain *out);
/* senderdomain_by_id - the same for the record id of account_id */
enum tx_code senderdomain_by_id(struct db *db, long long account_id, long long id, int64_t ttl_ms,
                                struct sender_domain *out);
/*
 * senderdomain_cached - what senderdomain_lookup() answered a moment ago,
 * without the database: 1 registered (out filled), 0 not registered, -1
 * not known (ask senderdomain_lookup()).
 */
int senderdomain_cached(long long account_id, const char *domain, struct sender_domain *out);
/* senderdomain_cache_clear - forget every record (tests, shutdown) */
void senderdomain_cache_clear(void);

#endif
