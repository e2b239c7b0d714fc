/*
 * inboundaddr - what a recipient address on txmail's inbound side (the
 * MX of the bounce domains, contract §16.7) stands for:
 *
 *   rewrite  an envelope-rewrite address (envelope_rewrite.rewrite_from,
 *            §16.6), matched case-insensitively: that row's account
 *   verp     "<VERP local part>@<bounce domain>" (lib/global/verp.h) whose
 *            tag verifies: the recipient id it carries and the account
 *            of the sender domain that names the bounce domain
 *   role     a role local part (postmaster, abuse, ...) at a bounce domain
 *   unknown  any other local part at a bounce domain
 *   forged   a VERP-shaped local part whose tag does not verify
 *   foreign  an address at a domain that is no bounce domain
 *
 * The rewrite mapping is asked first (an exact address beats a domain
 * rule); a bounce domain is one that some sender_domain.bounce_domain
 * names (case-insensitive).
 *
 * A bounce domain that the sender domains of several accounts name is
 * shared: a VERP address there belongs to the account of the job its
 * recipient id names (the job table) when that is one of them, else it
 * is unknown; a role address there belongs to the lowest account id.
 * A rewrite address mapped by several accounts belongs to the lowest
 * account id.
 *
 * The database's answers (the accounts of a bounce domain, the account
 * of a rewrite address, "none" included) are kept for the ttl_ms the
 * caller gives in one TTL/LRU cache (lib/util/ttlcache.h). The VERP key
 * must be set (verp_set_key_from_master()) or every VERP address is
 * forged. Thread-safe.
 */
#ifndef TX_INBOUNDADDR_H
#define TX_INBOUNDADDR_H

#include "global/db.h"
#include "global/txcode.h"

#include <stdint.h>

enum inboundaddr_kind {
    INBOUNDADDR_FOREIGN,
    INBOUNDADDR_UNKNOWN,
    INBOUNDADDR_FORGED,
    INBOUNDADDR_VERP,
    INBOUNDADDR_ROLE,
    INBOUNDADDR_REWRITE,
};

struct inboundaddr {
    enum inboundaddr_kind kind;
    long long account_id; /* verp, role, rewrite; else 0 */
    char rid[64];         /* verp; else "" */
};

/* inboundaddr_kind_name - "verp", "role", "rewrite", "unknown", "forged" or "foreign" */
const char *inboundaddr_kind_name(enum inboundaddr_kind kind);
/* inboundaddr_is_role - 1 when local is one of roles ("postmaster,abuse,fbl"), any case */
int inboundaddr_is_role(const char *local, const char *roles);
/*
 * inboundaddr_classify - what local@domain stands for (domain: the
 * A-label, any case). TX_OK with out filled, or TX_RETRY_DB.
 */
enum tx_code inboundaddr_classify(struct db *db, const char *local, const char *domain,
                                  const char *roles, int64_t ttl_ms, struct inboundaddr *out);
/*
 * inboundaddr_cached - the same from what the database answered a moment
 * ago: 1 answered (out filled), 0 not known without the database.
 */
int inboundaddr_cached(const char *local, const char *domain, const char *roles,
                       struct inboundaddr *out);
/* inboundaddr_cache_clear - forget every answer (tests) */
void inboundaddr_cache_clear(void);

#endif
