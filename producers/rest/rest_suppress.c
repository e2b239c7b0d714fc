/*
 * rest_suppress - what the JobRequest check asks the database: is a
 * sender domain registered for the account (lib/global/intake/senderdomain.h,
 * cached), and which recipient addresses are on its suppression list
 * (lib/global/intake/suppress.h: all the addresses of a job in one query).
 */
#include "producers/rest/rest.h"
#include "global/intake/senderdomain.h"

#include <stdio.h>
#include <string.h>

enum tx_code rest_suppress_sender_domain(void *arg, const char *domain, struct jobreq_sender *out)
{
    struct rest_lookup *l = arg;
    struct sender_domain sd;
    enum tx_code rc;

    if (rest_conn_db(l->c) != TX_OK)
        return TX_RETRY_DB;
    rc = senderdomain_lookup(l->c->db, l->account_id, domain, auth_cache_ttl_ms, &sd);
    if (rc != TX_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    out->id = sd.id;
    snprintf(out->domain, sizeof(out->domain), "%s", sd.domain);
    out->relay = sd.relay_host[0] != 0;
    return TX_OK;
}

enum tx_code rest_suppress_lookup(void *arg, struct suppress_query *q, size_t n)
{
    struct rest_lookup *l = arg;

    if (rest_conn_db(l->c) != TX_OK)
        return TX_RETRY_DB;
    return suppress_lookup(l->c->db, l->account_id, q, n);
}
