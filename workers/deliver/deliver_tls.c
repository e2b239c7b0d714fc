/*
 * deliver_tls - the TLS client side of STARTTLS (OpenSSL).
 *
 * One SSL_CTX for the process (thread-safe for creating sessions).
 * Opportunistic TLS never verifies certificates (RFC 7435: encryption
 * without authentication beats plain text). Sessions that must be
 * encrypted (tlsEnforced, by the message or the sender domain) also
 * authenticate the peer unless deliver_tls_verify = no (the documented
 * opt-out, for peers known to have no usable certificate): the chain
 * against deliver_tls_ca_file (or the system store) and the name against
 * the host we connected to - the MX host name, or the relay/transport
 * host, or its address when given as one (Postfix's "verify" level). A
 * failure defers the message, "certificate verification failed: ...",
 * like any other TLS failure of an enforced session: enforced mail is
 * never handed to a peer that may be an interceptor.
 */
#include "workers/deliver/deliver.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

static SSL_CTX *ctx;

int deliver_tls_init(void)
{
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return -1;
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (deliver_conf.tls_verify) {
        if (*deliver_conf.tls_ca_file) {
            if (SSL_CTX_load_verify_locations(ctx, deliver_conf.tls_ca_file, NULL) != 1) {
                msg_warn("deliver_tls_ca_file %s: cannot load", deliver_conf.tls_ca_file);
                return -1;
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            msg_warn("cannot load the system CA store");
            return -1;
        }
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return 0;
}

void deliver_tls_done(void)
{
    SSL_CTX_free(ctx);
    ctx = NULL;
}

static int is_ip(const char *s)
{
    unsigned char b[16];

    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int deliver_tls_start(struct dconn *c, int64_t timeout_ms, int verify)
{
    int64_t deadline = timeutil_mono_ms() + timeout_ms;
    char why[160];

    if (c->rpos != c->rlen) {
        /* data after the 220 before the handshake: a plaintext injection */
        snprintf(c->err, sizeof(c->err),
                 "TLS handshake refused: peer sent data before the handshake");
        c->broken = 1;
        return -1;
    }
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    if (!is_ip(c->host))
        SSL_set_tlsext_host_name(c->ssl, c->host);
    if (verify) {
        SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
        if (is_ip(c->host))
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host);
        else
            SSL_set1_host(c->ssl, c->host);
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(c->ssl, r);
        short ev;
        if (e == SSL_ERROR_WANT_READ)
            ev = POLLIN;
        else if (e == SSL_ERROR_WANT_WRITE)
            ev = POLLOUT;
        else {
            unsigned long le = ERR_peek_last_error();
            long vr = SSL_get_verify_result(c->ssl);
            if (vr != X509_V_OK)
                snprintf(why, sizeof(why), "certificate verification failed: %s",
                         X509_verify_cert_error_string(vr));
            else if (le)
                ERR_error_string_n(le, why, sizeof(why));
            else
                snprintf(why, sizeof(why), "%s",
                         e == SSL_ERROR_SYSCALL ? "lost connection" : "protocol error");
            snprintf(c->err, sizeof(c->err), "TLS handshake failed: %s", why);
            c->broken = 1;
            return -1;
        }
        int64_t left = deadline - timeutil_mono_ms();
        struct pollfd p = {c->fd, ev, 0};
        if (left <= 0 || poll(&p, 1, (int)(left > 2147483647 ? 2147483647 : left)) <= 0) {
            snprintf(c->err, sizeof(c->err), "TLS handshake failed: timed out");
            c->broken = 1;
            return -1;
        }
    }
    c->tls = 1;
    c->verified = verify;
    snprintf(c->tls_desc, sizeof(c->tls_desc), "%s", SSL_get_version(c->ssl));
    c->rpos = c->rlen = 0;
    return 0;
}
