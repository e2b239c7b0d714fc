/* track_tls - certificate selection by SNI; see track_tls.h. */
#include "producers/track/track_tls.h"
#include "util/buf.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <dirent.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CERTS_MAX 16 /* certificates in one chain */

struct cert {
    char host[256];
    gnutls_pcert_st pcert[CERTS_MAX];
    unsigned npcert;
    gnutls_privkey_t key;
};

static struct cert dflt;
static struct cert *hosts;
static int nhosts;

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    struct buf b = BUF_INIT(1 << 20);
    char tmp[4096];
    size_t n;

    if (fp == NULL)
        return NULL;
    while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
        if (buf_append(&b, tmp, n) < 0)
            break;
    fclose(fp);
    return buf_steal(&b, len);
}

/* load - a PEM chain and a PEM key into c; -1 with a message */
static int load(struct cert *c, const char *chain, size_t clen, const char *key, size_t klen,
                const char *what)
{
    gnutls_datum_t d = {(unsigned char *)chain, (unsigned)clen};
    int rc;

    c->npcert = CERTS_MAX;
    if ((rc = gnutls_pcert_list_import_x509_raw(c->pcert, &c->npcert, &d, GNUTLS_X509_FMT_PEM, 0)) <
        0) {
        msg_warn("%s: certificate: %s", what, gnutls_strerror(rc));
        return -1;
    }
    gnutls_datum_t k = {(unsigned char *)key, (unsigned)klen};
    if ((rc = gnutls_privkey_init(&c->key)) < 0 ||
        (rc = gnutls_privkey_import_x509_raw(c->key, &k, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        msg_warn("%s: key: %s", what, gnutls_strerror(rc));
        return -1;
    }
    return 0;
}

void track_tls_load(const char *cert_file, const char *key_pem, const char *cert_dir)
{
    size_t clen = 0;
    char *chain;

    if (cert_file == NULL || !*cert_file || key_pem == NULL || !*key_pem)
        msg_fatal(
            "TLS: track_tls_cert_file and track_tls_key_file are required (or track_tls = no)");
    if ((chain = slurp(cert_file, &clen)) == NULL)
        msg_fatal("TLS: cannot read %s: %m", cert_file);
    if (load(&dflt, chain, clen, key_pem, strlen(key_pem), cert_file) < 0)
        msg_fatal("TLS: cannot use %s", cert_file);
    xfree(chain);
    if (cert_dir == NULL || !*cert_dir)
        return;
    DIR *d = opendir(cert_dir);
    struct dirent *e;
    if (d == NULL)
        msg_fatal("TLS: cannot open track_tls_cert_dir %s: %m", cert_dir);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[4096];
        size_t klen = 0;
        char *key;

        if (n <= 4 || n - 4 >= sizeof(hosts[0].host) || strcmp(e->d_name + n - 4, ".crt") != 0)
            continue;
        hosts = xrealloc(hosts, sizeof(*hosts) * (size_t)(nhosts + 1));
        struct cert *c = &hosts[nhosts];
        memset(c, 0, sizeof(*c));
        snprintf(c->host, sizeof(c->host), "%.*s", (int)(n - 4), e->d_name);
        snprintf(path, sizeof(path), "%s/%s", cert_dir, e->d_name);
        if ((chain = slurp(path, &clen)) == NULL)
            msg_fatal("TLS: cannot read %s: %m", path);
        snprintf(path, sizeof(path), "%s/%s.key", cert_dir, c->host);
        if ((key = slurp(path, &klen)) == NULL)
            msg_fatal("TLS: cannot read %s: %m", path);
        if (load(c, chain, clen, key, klen, path) < 0)
            msg_fatal("TLS: cannot use the certificate of %s", c->host);
        explicit_bzero(key, klen);
        xfree(key);
        xfree(chain);
        nhosts++;
    }
    closedir(d);
    msg_info("TLS: default certificate and %d host certificates", nhosts);
}

static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
    char name[256];
    size_t len = sizeof(name) - 1;
    unsigned type = 0;
    struct cert *c = &dflt;

    (void)req_ca_rdn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
    if (gnutls_server_name_get(session, name, &len, &type, 0) == GNUTLS_E_SUCCESS &&
        type == GNUTLS_NAME_DNS) {
        name[len < sizeof(name) ? len : sizeof(name) - 1] = 0;
        for (int i = 0; i < nhosts; i++)
            if (strcasecmp(hosts[i].host, name) == 0) {
                c = &hosts[i];
                break;
            }
    }
    *pcert = c->pcert;
    *pcert_length = c->npcert;
    *privkey = c->key;
    return 0;
}

void *track_tls_callback(void)
{
    return (void *)retrieve;
}

int track_tls_hosts(void)
{
    return nhosts;
}
