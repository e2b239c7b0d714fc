/*
 * suppress - the suppression list lookup (contract §5.3, §10.5, §13.1),
 * one query for txmail-rest, txmail-smtpd and txmail-deliver.
 *
 * The `suppression` table is keyed by account and lowercased bare
 * address; an entry counts until its expires_at (NULL: without end), as
 * the database's clock in UTC says (UTC_TIMESTAMP(3)): one time source
 * for every program, whatever the time zone of the session or of the
 * host. The addresses of one lookup go in one query as a JSON array
 * (JSON_TABLE), joined on the table's primary key (STRAIGHT_JOIN: one
 * eq_ref lookup per address, however long the account's list).
 *
 * suppress_check() keeps a "not listed" answer for cache_ms in a small
 * direct-mapped table, so a burst of retries does not hit the database
 * while a fresh bounce still stops the next message almost at once.
 * "Listed" answers are never cached: an entry deleted through the API
 * takes effect immediately. Thread-safe.
 */
#ifndef TX_SUPPRESS_H
#define TX_SUPPRESS_H

#include "global/db.h"
#include "global/txcode.h"

#include <stddef.h>
#include <stdint.h>

#define SUPPRESS_REASON_MAX 1024

/* one entry of the list */
struct suppress_hit {
    char type[32]; /* PREVIOUSLY_BOUNCED, MANUAL, UNSUBSCRIBED, ... */
    int64_t created_ms;
    char reason[SUPPRESS_REASON_MAX]; /* "" when none; a longer one is cut at a character */
};

/* one address of a lookup: the caller sets addr (lowercase bare address, borrowed) */
struct suppress_query {
    const char *addr;
    int hit; /* 1: listed, entry filled */
    struct suppress_hit entry;
};

/* suppress_lookup - the entries of q[0..n) of account_id: TX_OK or TX_RETRY_DB */
enum tx_code suppress_lookup(struct db *db, long long account_id, struct suppress_query *q,
                             size_t n);
/*
 * suppress_check - one address: 1 listed (hit filled), 0 not listed, -1
 * database trouble. A "not listed" answer is reused for cache_ms (0: not
 * kept).
 */
int suppress_check(struct db *db, long long account_id, const char *addr, int64_t cache_ms,
                   struct suppress_hit *hit);
/* suppress_subtype - the DROPPED subType of a blocked address: PREVIOUSLY_BOUNCED or SUPPRESSED */
const char *suppress_subtype(const struct suppress_hit *h);
/*
 * suppress_describe - the drop description of a blocked address:
 * ts="<created, ISO-8601>", reason="..." (with type="..." first unless
 * the entry is PREVIOUSLY_BOUNCED); "suppressed" when the reason is not
 * UTF-8. Ownership: new.
 */
char *suppress_describe(const struct suppress_hit *h);

#endif
