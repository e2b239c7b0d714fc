/*
 * eventfill - check an event in broker form (event.h) taken from
 * txmail.events, and complete it from its `message` row when its
 * publisher could not know everything.
 *
 * Every consumer of txmail.events treats the JSON as hostile: an event
 * must carry a recipient id of the contract's shape (§5.2), phase, state,
 * type, subType and ts (ISO-8601); anything else is refused. Members a
 * publisher may leave out, and what fills them in:
 *
 *   job           the job id part of the recipient id
 *   ts_ms         parsed from ts
 *   eventKey      "1"
 *   tag           computed (contract §11.5) from rid, phase, state, type,
 *                 subType, eventKey
 *   account, received, mail.{email,from,mimeFrom,rewriteFrom,reference},
 *   content.mime.messageId, x.suppress.address (when "" or absent)
 *                 from the message row of the recipient id (programs that
 *                 only hold a recipient id, e.g. txmail-track, whose token
 *                 carries the job id and indexes only)
 *
 * An event never overrides what its publisher wrote; only absent (or
 * zero) members are filled.
 */
#ifndef TX_EVENTFILL_H
#define TX_EVENTFILL_H

#include "global/db.h"
#include "global/txcode.h"

#include <jansson.h>
#include <stddef.h>

/*
 * eventfill_check - validate ev and fill what needs no database (job,
 * ts_ms, eventKey, tag). 0, or -1 with the reason in err.
 */
int eventfill_check(json_t *ev, char *err, size_t errsz);
/* eventfill_needed - 1 when the message row is needed (account or mail missing) */
int eventfill_needed(json_t *ev);
/*
 * eventfill_from_message - fill the missing members from the message
 * row. TX_OK; TX_RETRY_NOT_READY when there is no row (yet); TX_RETRY_DB.
 */
enum tx_code eventfill_from_message(struct db *db, json_t *ev);

#endif
