/* txcode - result codes and dispositions; see txcode.h. */
#include "global/txcode.h"

enum tx_disposition txcode_disposition(enum tx_code code)
{
    switch (code) {
    case TX_OK:
        return TX_DISP_OK;
    case TX_RETRY_BROKER:
    case TX_RETRY_DB:
    case TX_RETRY_PEER:
    case TX_RETRY_DNS:
    case TX_RETRY_NOT_READY:
    case TX_RETRY_THROTTLED:
    case TX_RETRY_UNAVAILABLE:
        return TX_DISP_RETRY;
    case TX_REJECT_INPUT:
    case TX_REJECT_PEER:
    case TX_REJECT_POLICY:
    case TX_REJECT_EXPIRED:
    case TX_REJECT_DISCARD:
    case TX_REJECT_MALFORMED:
        return TX_DISP_REJECT;
    case TX_FATAL_CONFIG:
    case TX_FATAL_RESOURCE:
    case TX_FATAL_INTERNAL:
        return TX_DISP_FATAL;
    }
    return TX_DISP_FATAL;
}

const char *txcode_name(enum tx_code code)
{
    switch (code) {
    case TX_OK:
        return "ok";
    case TX_RETRY_BROKER:
        return "broker";
    case TX_RETRY_DB:
        return "database";
    case TX_RETRY_PEER:
        return "peer-temporary";
    case TX_RETRY_DNS:
        return "dns-temporary";
    case TX_RETRY_NOT_READY:
        return "not-ready";
    case TX_RETRY_THROTTLED:
        return "throttled";
    case TX_RETRY_UNAVAILABLE:
        return "unavailable";
    case TX_REJECT_INPUT:
        return "bad-input";
    case TX_REJECT_PEER:
        return "peer-permanent";
    case TX_REJECT_POLICY:
        return "policy";
    case TX_REJECT_EXPIRED:
        return "expired";
    case TX_REJECT_DISCARD:
        return "discarded";
    case TX_REJECT_MALFORMED:
        return "malformed";
    case TX_FATAL_CONFIG:
        return "config";
    case TX_FATAL_RESOURCE:
        return "resource";
    case TX_FATAL_INTERNAL:
        return "internal";
    }
    return "unknown";
}

const char *txcode_disposition_name(enum tx_disposition d)
{
    static const char *names[] = {"ok", "retry", "reject", "fatal"};

    return d <= TX_DISP_FATAL ? names[d] : "unknown";
}
