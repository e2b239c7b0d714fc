/*
 * txcode - txmail's stable result codes and their dispositions.
 *
 * Every failure is classified once, at the lowest level that sees it,
 * into one of these codes. Each code maps to exactly one disposition:
 *
 *   OK      the work is done; the skeleton forwards and acks
 *   RETRY   temporary; the job goes through a delay queue (attempt+1)
 *   REJECT  permanent; final events are published and the job is acked
 *   FATAL   this process cannot go on; exit without ack (supervisor restarts)
 *
 * The numeric values are part of the log and metrics vocabulary: never
 * renumber, only append.
 */
#ifndef TX_TXCODE_H
#define TX_TXCODE_H

enum tx_disposition { TX_DISP_OK, TX_DISP_RETRY, TX_DISP_REJECT, TX_DISP_FATAL };

enum tx_code {
    TX_OK = 0,
    TX_RETRY_BROKER = 1,      /* broker unreachable or publish unconfirmed */
    TX_RETRY_DB = 2,          /* database unreachable, deadlock, lock timeout */
    TX_RETRY_PEER = 3,        /* remote peer temporary failure (SMTP 4xx, HTTP) */
    TX_RETRY_DNS = 4,         /* DNS timeout or server failure */
    TX_RETRY_NOT_READY = 5,   /* a precondition is not there yet (acceptance record) */
    TX_RETRY_THROTTLED = 6,   /* held back by a rate limit */
    TX_RETRY_UNAVAILABLE = 7, /* a local engine (scanner) is not available */
    TX_REJECT_INPUT = 20,     /* bad job content */
    TX_REJECT_PEER = 21,      /* permanent peer failure (SMTP 5xx) */
    TX_REJECT_POLICY = 22,    /* refused by policy (suppression, config) */
    TX_REJECT_EXPIRED = 23,   /* retry budget or maximum age used up */
    TX_REJECT_DISCARD = 24,   /* job must not be processed (no acceptance record) */
    TX_REJECT_MALFORMED = 25, /* message cannot be decoded: dead letters */
    TX_FATAL_CONFIG = 40,     /* bad configuration */
    TX_FATAL_RESOURCE = 41,   /* out of memory, lost broker after reconnects */
    TX_FATAL_INTERNAL = 42,   /* broken invariant */
};

enum tx_disposition txcode_disposition(enum tx_code code);
const char *txcode_name(enum tx_code code);
const char *txcode_disposition_name(enum tx_disposition d);

#endif
