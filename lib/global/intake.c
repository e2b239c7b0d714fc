/* intake - durable job acceptance; see intake.h. */
#include "global/intake.h"
#include "util/msg.h"
#include "util/mymalloc.h"

enum tx_code intake_publish_body(struct mq *pub, const char *stage, const char *job_id,
                                 const void *body, size_t len, int timeout_ms)
{
    struct mq_props props = {NULL, job_id, NULL, 0};
    enum tx_code rc = mq_publish(pub, MQ_EXCHANGE_WORK, stage, body, len, &props);

    if (rc == TX_OK)
        rc = mq_wait_confirms(pub, timeout_ms);
    return rc;
}

enum tx_code intake_publish(struct mq *pub, const struct envelope *e, int timeout_ms)
{
    const char *stage = envelope_stage(e);
    char *body;
    size_t len;
    enum tx_code rc;

    if (stage == NULL)
        msg_panic("intake_publish: empty slip");
    if (envelope_encode(e, &body, &len) < 0)
        return TX_REJECT_INPUT;
    rc = intake_publish_body(pub, stage, e->job_id, body, len, timeout_ms);
    xfree(body);
    return rc;
}
