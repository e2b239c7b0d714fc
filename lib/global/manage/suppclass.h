/*
 * suppclass - the suppression entry a bounce creates (contract §13.1):
 * one home for the code-to-class mapping, used by txmail-deliver for
 * synchronous replies and by the bounce worker for asynchronous bounces.
 *
 *   hard bounce (SUPPCLASS_PERMANENT):
 *     x.2.2 (mailbox full)                        TEMPORARY_SUPPRESSED  1 day
 *     5.1.0, 5.1.1, 5.1.2, 5.1.10, and 5.0.0 /
 *     5.5.0 with a "user unknown" text            PREVIOUSLY_BOUNCED   45 days
 *     every other code                            PREVIOUSLY_BOUNCED    7 days
 *   soft bounce at the end of retries (no flag)   TEMPORARY_SUPPRESSED  1 day
 *   a code in the operator's exclude list         nothing
 *   a bounce txmail itself decided for the message's own sake
 *     (SUPPCLASS_LOCAL with 5.1.3 / 5.1.7 bad address syntax in the data,
 *     5.3.4 over the peer's SIZE, 5.6.7 SMTPUTF8 unavailable): nothing,
 *     it is not the recipient's fault. A peer's reply with one of these
 *     codes is not local and suppresses as any other hard bounce.
 *
 * The exclude list (the shared parameter suppress_exclude, read by
 * txmail-deliver and txmail-bounce) is a comma list of enhanced codes; an entry ending in '*' is a
 * prefix ("5.7.1, 5.7.*"). It applies to hard and soft bounces alike.
 * Pure functions: thread-safe, no I/O.
 */
#ifndef TX_SUPPCLASS_H
#define TX_SUPPCLASS_H

#include <jansson.h>

#define SUPPCLASS_PERMANENT 0x01 /* a hard bounce (5xx, DSN action failed with 5.x.x) */
#define SUPPCLASS_LOCAL 0x02     /* txmail decided it without a peer's reply */

#define SUPPCLASS_45D (45LL * 86400)
#define SUPPCLASS_7D (7LL * 86400)
#define SUPPCLASS_1D (86400LL)

struct suppclass {
    const char *type; /* "PREVIOUSLY_BOUNCED" | "TEMPORARY_SUPPRESSED" (static) */
    long long lifetime_s;
};

/*
 * suppclass_decide - the class of a bounce with enhanced code dsn ("5.1.1";
 * "" or NULL when unknown: then the reply text decides alone), the reply
 * or diagnostic text (may be NULL), flags (SUPPCLASS_PERMANENT, and
 * SUPPCLASS_LOCAL) and the exclude list (may be NULL). 1 with out filled,
 * 0 when the bounce suppresses nothing.
 */
int suppclass_decide(const char *dsn, const char *text, int flags, const char *exclude,
                     struct suppclass *out);
/*
 * suppclass_listed - dsn matches an entry of the comma list ("5.7.1",
 * "5.7.*"); 0 for an empty dsn or list
 */
int suppclass_listed(const char *dsn, const char *list);
/*
 * suppclass_extra - the event's `x` object that asks the recorder to
 * create or refresh the entry: {"suppress":{"address","type","lifetime_s",
 * "reason"}} (address: the lowercased suppression key; reason: the event
 * description). Ownership: new (json_decref).
 */
json_t *suppclass_extra(const char *address, const struct suppclass *c, const char *reason);

#endif
