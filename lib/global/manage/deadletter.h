/*
 * deadletter - an account's notification dead letters (contract §11.2):
 * the rows txmail-notify writes into webhook_delivery (state dead) when a
 * POST failed for notify_max_age, listed, and queued again.
 *
 * The list holds the rows in state dead, newest dead letter first (id
 * descending), paged by keyset on id. A redelivered row (state
 * redelivered) is not listed and cannot be redelivered again until notify
 * dead-letters it anew: notify's upsert on (account_id, tag) sets it back
 * to dead with the new attempts.
 *
 * Redelivery queues the notification exactly as txmail-notify queues its
 * own retries (webhook.h): one "webhook" envelope straight to the retry
 * queue (txmail.work, key WEBHOOK_RETRY_QUEUE), never tried (firstAttempt
 * 0, attempts 0: notify starts a new notify_max_age at its first attempt),
 * the body built as notify builds it (top-level meta of the job and the
 * account, the one notification as it was dead-lettered), the endpoint as
 * notify would choose it now: the job's endpoint, else the account's
 * default, else the URL the dead letter was posted to (without
 * authentication). Passwords stay encrypted in the envelope. Only once
 * the broker confirmed the envelope is the row marked redelivered (when
 * it is still the dead letter that was read): a crash between the two
 * redelivers it twice at worst, which §11.2's at-least-once allows.
 */
#ifndef TX_DEADLETTER_H
#define TX_DEADLETTER_H

#include "global/db.h"
#include "global/runtime/mqpub.h"
#include "global/txcode.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * deadletter_list - up to limit dead letters of account after id
 * after_id (0: from the newest) as §11.2 items appended to items; *next_id
 * is the id to continue after, 0 when none follows. TX_OK or TX_RETRY_DB.
 */
enum tx_code deadletter_list(struct db *db, long long account, long long after_id, size_t limit,
                             json_t *items, long long *next_id);
/*
 * deadletter_redeliver - queue the dead letter tag of account again
 * (publishing through pub, waiting up to timeout_ms for the confirm),
 * then mark it redelivered: TX_OK with *found (0: no such dead letter,
 * nothing done), TX_RETRY_BROKER (not confirmed: still a dead letter),
 * TX_RETRY_DB.
 */
enum tx_code deadletter_redeliver(struct db *db, struct mqpub *pub, int timeout_ms,
                                  long long account, const char *tag, int *found);

#endif
