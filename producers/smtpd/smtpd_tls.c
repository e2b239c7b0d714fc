/*
 * smtpd_tls - the server's TLS context (TLS 1.2 or newer; certificate
 * chain and key from smtpd_tls_cert_file / smtpd_tls_key_file). The
 * bufferevents that use it are made in smtpd_session.c.
 */
#include "smtpd.h"
#include "util/msg.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

static SSL_CTX *ctx;

static void fatal_ssl(const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    ERR_error_string_n(e, buf, sizeof(buf));
    msg_fatal("%s %s: %s", what, file, buf);
}

int smtpd_tls_init(void)
{
    if (*smtpd_conf.cert_file == 0 && *smtpd_conf.key_pem == 0)
        return 0;
    if (*smtpd_conf.cert_file == 0 || *smtpd_conf.key_pem == 0)
        msg_fatal("smtpd_tls_cert_file and smtpd_tls_key_file go together");
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        msg_fatal("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"txmail-smtpd", 12);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    if (SSL_CTX_use_certificate_chain_file(ctx, smtpd_conf.cert_file) != 1)
        fatal_ssl("cannot load the certificate chain", smtpd_conf.cert_file);
    /* the key is a secret file: cfg checked its owner and mode and holds
     * its text (never printed) */
    BIO *bio = BIO_new_mem_buf(smtpd_conf.key_pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (key == NULL || SSL_CTX_use_PrivateKey(ctx, key) != 1)
        fatal_ssl("cannot load the private key", "smtpd_tls_key_file");
    EVP_PKEY_free(key);
    if (SSL_CTX_check_private_key(ctx) != 1)
        fatal_ssl("the private key does not match the certificate", "smtpd_tls_key_file");
    return 1;
}

int smtpd_tls_available(void)
{
    return ctx != NULL;
}

SSL *smtpd_tls_new(void)
{
    SSL *ssl = SSL_new(ctx);

    if (ssl == NULL)
        msg_warn("SSL_new failed");
    return ssl;
}

void smtpd_tls_describe(SSL *ssl, char *proto, size_t psz, char *cipher, size_t csz)
{
    snprintf(proto, psz, "%s", ssl ? SSL_get_version(ssl) : "?");
    snprintf(cipher, csz, "%s", ssl ? SSL_get_cipher_name(ssl) : "?");
}
