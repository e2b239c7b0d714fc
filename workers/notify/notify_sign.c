/*
 * notify_sign - the pieces of a POST that need no network: the payload's
 * meta (contract §11.4, built by lib/global/manage/webhook.c, which also
 * holds the endpoint identity used for per-endpoint limits), the
 * X-Txmail-Signature header (§11.3), Basic authentication and the checks
 * on custom headers (§4.11, §11.1).
 */
#include "notify.h"
#include "global/crypto.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int notify_sign_signature(struct buf *out, int64_t t, const struct buf *s1, const struct buf *s2,
                          const char *body, size_t len)
{
    const struct buf *keys[2] = {s1, s2};
    char ts[32], hx[65];
    struct buf msg = BUF_INIT((size_t)1 << 31);
    int n;

    n = snprintf(ts, sizeof(ts), "%lld", (long long)t);
    if (buf_append(&msg, ts, (size_t)n) < 0 || buf_putc(&msg, '.') < 0 ||
        buf_append(&msg, body, len) < 0)
        return -1;
    if (buf_printf(out, "t=%s", ts) < 0)
        goto fail;
    for (int i = 0; i < 2; i++) {
        unsigned char mac[32];
        if (keys[i] == NULL || keys[i]->len == 0)
            continue;
        crypto_hmac_sha256(mac, keys[i]->data, keys[i]->len, msg.data, msg.len);
        codec_hex_encode(hx, mac, sizeof(mac));
        if (buf_printf(out, ",v1=%s", hx) < 0)
            goto fail;
    }
    buf_free(&msg);
    return 0;
fail:
    buf_free(&msg);
    return -1;
}

int notify_sign_header_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 256)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("!#$%&'*+-.^_`|~", name[i]))
            return 0;
    return 1;
}

int notify_sign_header_value_ok(const char *value)
{
    size_t n = strlen(value);

    if (n > 8000)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

int notify_sign_header_reserved(const char *name, int have_auth)
{
    static const char *const reserved[] = {
        "Host",         "Content-Length",
        "Content-Type", "Transfer-Encoding",
        "Connection",   "X-Txmail-Signature",
        "User-Agent",   "Expect",
        "TE",           "Upgrade",
        NULL,
    };

    for (int i = 0; reserved[i]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return 1;
    /* a custom Authorization only when no authentication is configured */
    return have_auth && strcasecmp(name, "Authorization") == 0;
}

int notify_sign_basic(struct buf *out, const char *user, const char *password)
{
    struct buf up = BUF_INIT(1024);
    int rc = -1;

    if (buf_printf(&up, "%s:%s", user, password ? password : "") == 0 &&
        buf_puts(out, "Basic ") == 0 && codec_b64_encode(out, up.data, up.len) == 0)
        rc = 0;
    if (up.data)
        explicit_bzero(up.data, up.len);
    buf_free(&up);
    return rc;
}

json_t *notify_sign_meta(const struct nf_job *job, const struct nf_account *acct)
{
    struct webhook_meta m = {job->id,      job->received_ms,   acct->name,       acct->customer_no,
                             acct->tenant, job->reference_job, job->cost_center, job->campaign_id};

    return webhook_meta_json(&m);
}

/* ---- webhook secrets ---------------------------------------------------- */

#define NF_ROTATION_MS (24LL * 3600 * 1000)

int notify_sign_secrets(const struct nf_account *a, struct buf *s1, struct buf *s2)
{
    int n = 0;

    if (a->secret) {
        if (crypto_secret_decrypt(s1, a->secret, strlen(a->secret)) < 0) {
            msg_warn("account %lld: cannot decrypt the webhook secret (master key?)", a->id);
            buf_reset(s1);
            return -1;
        }
        n = 1;
    }
    if (a->secret_prev && a->rotated_ms && timeutil_now_ms() - a->rotated_ms < NF_ROTATION_MS) {
        if (crypto_secret_decrypt(s2, a->secret_prev, strlen(a->secret_prev)) == 0)
            n++;
        else
            msg_warn("account %lld: cannot decrypt the previous webhook secret; signing with the "
                     "current one only",
                     a->id);
    }
    return n;
}
