/* intake - durable job acceptance; see intake.h. */
#include "global/intake/intake.h"
#include "util/msg.h"
#include "util/mymalloc.h"

enum tx_code intake_publish_body(struct mqpub *pub, const char *stage, const char *job_id,
                                 const void *body, size_t len, int timeout_ms)
{
    struct mqpub_msg m = {MQ_EXCHANGE_WORK, stage, NULL, NULL, body, len, job_id};

    return mqpub_send(pub, &m, 1, timeout_ms);
}
