/*
 * supplist - an account's suppression list as the API and txmailctl
 * manage it (contract §13): list, get, put a MANUAL entry, delete.
 *
 * Rows live in `suppression` (schema/002_jobs.sql), keyed by account and
 * the lowercased bare address (supplist_address: trimmed, parsed and
 * lowercased with lib/global/addr.h, the key txmail-rest, txmail-smtpd,
 * txmail-deliver (intake/suppress.h) and txmail-recorder use). An entry
 * counts until its expires_at as the database's clock says
 * (UTC_TIMESTAMP(3), as suppress.h): an expired row is neither listed nor
 * found nor deleted, and a put over it counts as a new entry.
 *
 * A put writes a MANUAL entry: created now, no attempt yet, expiry as
 * given or without end, lifetime_s NULL (MANUAL never resets on attempts,
 * §13.1), reason as given, no recipient id. It replaces an entry of any
 * type (the operator's word wins); the recorder later keeps it against
 * bounce classes and lets an UNSUBSCRIBED event replace it (its ranks,
 * workers/recorder/recorder.c).
 *
 * Lists are newest first (created_at, then address, both descending) and
 * paged by keyset on those two columns, so paging to the end under
 * concurrent inserts never repeats nor skips an entry that existed when
 * the first page was read (index suppression_account_created).
 */
#ifndef TX_SUPPLIST_H
#define TX_SUPPLIST_H

#include "global/db.h"
#include "global/txcode.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SUPPLIST_ADDRESS_MAX 254
#define SUPPLIST_REASON_MAX 1000 /* code points of a reason a put accepts */

struct supplist_entry {
    char email[SUPPLIST_ADDRESS_MAX + 2]; /* the key: lowercase bare address */
    char type[32];
    int64_t created_ms;
    int64_t last_attempt_ms; /* -1: no blocked attempt yet */
    int64_t expires_ms;      /* -1: without end */
    char *reason;            /* new, or NULL */
    char rid[64];            /* "" when none */
};

/* where a page starts: after the entry (created_ms, address); set 0 = the first page */
struct supplist_cursor {
    int set;
    int64_t created_ms;
    char address[SUPPLIST_ADDRESS_MAX + 2];
};

struct supplist_page {
    struct supplist_entry *items; /* new */
    size_t n;
    int more; /* another page follows (next: after items[n - 1]) */
};

/*
 * supplist_address - the list's key of an address as a user writes it
 * (surrounding white space allowed, local@domain, any case, U-label
 * domains): 0, or -1 when it is not an address
 */
int supplist_address(char *out, size_t outsz, const char *in);
/* supplist_type_ok - one of the four entry types of §13.1 */
int supplist_type_ok(const char *type);
/* supplist_entry_json - the §13.2 entry. Ownership: new. */
json_t *supplist_entry_json(const struct supplist_entry *e);
/* supplist_entry_clear - free what an entry owns */
void supplist_entry_clear(struct supplist_entry *e);
/* supplist_page_free - free a page's entries */
void supplist_page_free(struct supplist_page *p);

/*
 * supplist_list - up to limit entries of account in force now, of type
 * (NULL: all), after cursor (NULL: from the newest): TX_OK or TX_RETRY_DB
 */
enum tx_code supplist_list(struct db *db, long long account, const char *type,
                           const struct supplist_cursor *cursor, size_t limit,
                           struct supplist_page *out);
/* supplist_get - the entry of address (a key) in force now: TX_OK with *found (out filled) */
enum tx_code supplist_get(struct db *db, long long account, const char *address, int *found,
                          struct supplist_entry *out);

/* a MANUAL entry to put (members borrowed) */
struct supplist_put {
    const char *address; /* a key (supplist_address) */
    const char *reason;  /* or NULL */
    int64_t expires_ms;  /* -1: without end */
    int replaced;        /* out: an entry in force was replaced (else created) */
};

/*
 * supplist_put - write one MANUAL entry (p->replaced set; out, when not
 * NULL, gets the entry as written): TX_OK, TX_REJECT_EXPIRED (an expiry
 * not after now: nothing written) or TX_RETRY_DB
 */
enum tx_code supplist_put(struct db *db, long long account, struct supplist_put *p,
                          struct supplist_entry *out);
/*
 * supplist_put_all - n MANUAL entries in one transaction, all or none
 * (each p[i].replaced set): TX_OK, TX_REJECT_EXPIRED (an expiry not after
 * now) or TX_RETRY_DB
 */
enum tx_code supplist_put_all(struct db *db, long long account, struct supplist_put *p, size_t n);
/* supplist_delete - remove the entry of address when in force: TX_OK with *found */
enum tx_code supplist_delete(struct db *db, long long account, const char *address, int *found);

#endif
