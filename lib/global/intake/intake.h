/*
 * intake - how a producer makes a job durable (DESIGN.md §2), shared by
 * txmail-rest and txmail-smtpd:
 *
 *   1. intake_publish_body(): the job envelope to slip[0] on txmail.work,
 *      persistent, mandatory, and the broker's confirm awaited (mqpub.h's
 *      bounded policy);
 *   2. acceptance_write() (lib/global/intake/acceptance.h): the acceptance record
 *      (the job row with the answer about to be sent);
 *   3. only then the answer.
 *
 * Any failure is TX_RETRY_BROKER / TX_RETRY_DB: the producer answers 503 /
 * 451, and the first stage discards the job for want of its acceptance
 * record.
 *
 * The first stage (lib/global/intake/firststage.h) publishes the intake record (the
 * INTAKE event) and PRE_PROCESS drop events, so no event exists for a job that was refused.
 */
#ifndef TX_INTAKE_H
#define TX_INTAKE_H

#include "global/envelope.h"
#include "global/runtime/mqpub.h"

#include <stddef.h>

/*
 * intake_publish_body - publish an encoded job envelope (body) to stage
 * and wait for the confirm; TX_RETRY_BROKER when the broker did not take it
 */
enum tx_code intake_publish_body(struct mqpub *pub, const char *stage, const char *job_id,
                                 const void *body, size_t len, int timeout_ms);

#endif
