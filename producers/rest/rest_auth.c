/*
 * rest_auth - who is calling (contract §3.2): the client address is the
 * TCP peer, or X-Real-IP when the peer is one of rest_trusted_proxies;
 * HTTP Basic credentials (RFC 7617) checked with auth_basic() (KDF cache,
 * per-credential source-IP allow-list, limits on password guessing and
 * on concurrent KDF runs). Wrong credentials and a source address not
 * allowed answer alike.
 */
#include "producers/rest/rest.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void ip_text(const struct sockaddr *sa, char *out, size_t outsz)
{
    snprintf(out, outsz, "-");
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, (const unsigned char *)a + 12, out, (socklen_t)outsz);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)outsz);
    }
}

void rest_auth_client(struct rest_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const char *real;
    unsigned char a[16];

    ip_text(ci ? ci->client_addr : NULL, r->peer_ip, sizeof(r->peer_ip));
    snprintf(r->client_ip, sizeof(r->client_ip), "%s", r->peer_ip);
    if (!*rest_conf.trusted_proxies || !auth_ip_allowed(rest_conf.trusted_proxies, r->peer_ip))
        return;
    real = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Real-IP");
    if (real == NULL || strlen(real) >= sizeof(r->client_ip))
        return;
    if (inet_pton(AF_INET, real, a) == 1 || inet_pton(AF_INET6, real, a) == 1)
        snprintf(r->client_ip, sizeof(r->client_ip), "%s", real);
}

enum tx_code rest_auth_check(struct rest_req *r, struct rest_conn *c)
{
    const char *h =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    struct buf cred = BUF_INIT(1024);
    enum tx_code rc = TX_REJECT_POLICY;
    char *colon;

    if (h == NULL)
        return TX_REJECT_POLICY;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Basic ", 6) != 0)
        return TX_REJECT_POLICY;
    h += 6;
    while (*h == ' ')
        h++;
    size_t len = strlen(h);
    while (len > 0 && h[len - 1] == ' ')
        len--;
    if (len == 0 || len > 1024 || codec_b64_decode(&cred, h, len, 0) < 0 || cred.len == 0)
        goto out;
    if (memchr(cred.data, 0, cred.len) || (colon = memchr(cred.data, ':', cred.len)) == NULL)
        goto out;
    *colon = 0;
    if ((rc = rest_conn_db(c)) != TX_OK)
        goto out;
    rc = auth_basic(c->db, cred.data, colon + 1, r->client_ip, &r->acct, &r->retry_after);
    if (rc == TX_OK)
        r->authed = 1;
    else if (rc == TX_RETRY_THROTTLED || rc == TX_RETRY_UNAVAILABLE)
        msg_info("%s: client=%s, login not checked (%s), retry after %ds", r->job_id, r->client_ip,
                 rc == TX_RETRY_THROTTLED ? "too many failures" : "all KDF slots busy",
                 r->retry_after);
    else if (rc != TX_RETRY_DB)
        rc = TX_REJECT_POLICY;
out:
    if (cred.data)
        explicit_bzero(cred.data, cred.cap);
    buf_free(&cred);
    return rc;
}
