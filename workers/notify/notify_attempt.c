/*
 * notify_attempt - one POST attempt of txmail-notify (notify_http.c runs
 * them): where it may connect, its headers and signature, its curl
 * transfer and how its outcome reads.
 *
 * Where a POST may connect is checked on the address actually connected
 * to (open_socket), or, through notify_proxy, on the address the proxy is
 * asked to tunnel to (proxy_pin); see notify_http.c for the policy.
 */
#include "notify.h"
#include "global/crypto.h"
#include "global/access/netpolicy.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define NF_RESPONSE_MAX (1 << 20)
#define NF_DENIED "address denied by policy (notify_deny_networks, notify_allow_networks)"

/*
 * open_socket - curl's sockets: a connection to a denied address is never
 * made. Through notify_proxy every connection is to the proxy; its target
 * was checked and pinned by proxy_pin().
 */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct nf_post *p = arg;

    (void)purpose; /* IPCXN; ACCEPT is FTP only, and only http(s) is allowed */
    if (*notify_conf.proxy == 0 && !netpolicy_allowed(nf_policy, &a->addr)) {
        p->denied = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
    struct nf_post *p = arg;

    (void)ptr;
    p->rcvd += size * n;
    return p->rcvd > NF_RESPONSE_MAX ? 0 : size * n;
}

static void wipe_list(struct curl_slist *l)
{
    for (struct curl_slist *s = l; s; s = s->next)
        explicit_bzero(s->data, strlen(s->data));
    curl_slist_free_all(l);
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *value)
{
    struct buf line = BUF_INIT(20000);
    struct curl_slist *n = l;

    if (buf_printf(&line, "%s: %s", name, value) == 0) {
        n = curl_slist_append(l, line.data);
        if (n == NULL)
            msg_fatal("out of memory");
    }
    if (line.data)
        explicit_bzero(line.data, line.len);
    buf_free(&line);
    return n;
}

/*
 * build_headers - contract §11.1 order of precedence: our own headers,
 * then Basic authentication, then the custom ones that do not collide.
 */
static int build_headers(struct nf_post *p, const struct buf *sig, struct curl_slist **out)
{
    struct curl_slist *l = NULL;
    const char *name;
    json_t *v;
    size_t total = 0;
    int have_auth = p->ep.user != NULL, rc = 0;

    l = add_header(l, "Content-Type", "application/json");
    l = add_header(l, "User-Agent", NOTIFY_USER_AGENT);
    l = add_header(l, "X-Txmail-Signature", sig->data);
    if (have_auth) {
        struct buf plain = BUF_INIT(4096), basic = BUF_INIT(8192);
        const char *pw = p->ep.password;
        if (pw && strncmp(pw, "v1:", 3) == 0) {
            if (crypto_secret_decrypt(&plain, pw, strlen(pw)) < 0) {
                msg_warn("%s: cannot decrypt the endpoint password (master key?)", p->job_id);
                rc = -1;
            }
            pw = buf_ptr(&plain);
        }
        if (rc == 0 && notify_sign_basic(&basic, p->ep.user, pw ? pw : "") == 0)
            l = add_header(l, "Authorization", basic.data);
        if (plain.data)
            explicit_bzero(plain.data, plain.len);
        if (basic.data)
            explicit_bzero(basic.data, basic.len);
        buf_free(&plain);
        buf_free(&basic);
    }
    json_object_foreach (p->ep.headers, name, v) {
        const char *s = json_string_value(v);
        if (s == NULL || !notify_sign_header_name_ok(name) || !notify_sign_header_value_ok(s) ||
            notify_sign_header_reserved(name, have_auth))
            continue;
        total += strlen(name) + strlen(s);
        if (total > 10000)
            break;
        l = add_header(l, name, s);
    }
    l = add_header(l, "Expect", ""); /* no 100-continue round trip */
    *out = l;
    return rc;
}

/*
 * resolve_list - CURLOPT_RESOLVE for the endpoint when dns_servers
 * resolves it: 0 (set or not needed), 1 (lookup running: later), -1
 * (failed: last_result says why)
 */
static int resolve_list(struct nf_post *p)
{
    const char *hp = strstr(p->origin_name, "://"), *colon, *addrs = NULL, *err = NULL;
    char host[300], line[1000];

    p->resolve = NULL;
    if (hp == NULL || (colon = strrchr(hp + 3, ':')) == NULL)
        return 0;
    hp += 3;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
    if (host[0] == '[') /* an IPv6 literal: nothing to resolve */
        return 0;
    switch (notify_dns_get(host, &addrs, &err)) {
    case NF_DNS_OFF:
        return 0;
    case NF_DNS_PENDING:
        return 1;
    case NF_DNS_FAILED:
        snprintf(p->last_result, sizeof(p->last_result), "connect error: %s", err);
        return -1;
    case NF_DNS_READY:
        break;
    }
    snprintf(line, sizeof(line), "%s:%s:%s", host, colon + 1, addrs);
    p->resolve = curl_slist_append(NULL, line);
    if (p->resolve == NULL)
        msg_fatal("out of memory");
    return 0;
}

/* is_literal - host is an IP address (IPv6 without brackets) */
static int is_literal(const char *host)
{
    unsigned char b[16];

    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/*
 * proxy_pin - through notify_proxy: resolve the endpoint's host (as curl
 * parses the URL), keep the first address the policy allows and have the
 * proxy tunnel to that address. 0 (pinned), 1 (lookup running: later),
 * -1 (failed or denied: last_result says why)
 */
static int proxy_pin(struct nf_post *p)
{
    CURLU *u = curl_url();
    char *uhost = NULL, *uport = NULL, host[300], line[600], pick[INET6_ADDRSTRLEN + 2] = "";
    const char *addrs = NULL, *err = NULL;
    int rc = -1;

    p->connect_to = NULL;
    if (u == NULL)
        msg_fatal("out of memory");
    if (curl_url_set(u, CURLUPART_URL, p->ep.url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &uhost, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &uport, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        strlen(uhost) >= sizeof(host)) {
        snprintf(p->last_result, sizeof(p->last_result), "connect error: unusable URL");
        goto out;
    }
    if (uhost[0] == '[')
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(uhost + 1, "]"), uhost + 1);
    else
        snprintf(host, sizeof(host), "%s", uhost);
    if (is_literal(host)) {
        addrs = host;
    } else {
        switch (notify_dns_get(host, &addrs, &err)) {
        case NF_DNS_PENDING:
            rc = 1;
            goto out;
        case NF_DNS_OFF:
            err = "no resolver";
            /* FALLTHROUGH */
        case NF_DNS_FAILED:
            snprintf(p->last_result, sizeof(p->last_result), "connect error: %s", err);
            goto out;
        case NF_DNS_READY:
            break;
        }
    }
    /* "a,[b],...": the first allowed address */
    for (const char *a = addrs; *a && !pick[0];) {
        size_t n = strcspn(a, ",");
        char one[INET6_ADDRSTRLEN + 2];
        if (n < sizeof(one)) {
            snprintf(one, sizeof(one), "%.*s", (int)n, a[0] == '[' ? a + 1 : a);
            one[strcspn(one, "]")] = 0;
            if (netpolicy_allowed_text(nf_policy, one))
                snprintf(pick, sizeof(pick), strchr(one, ':') ? "[%s]" : "%s", one);
        }
        a += n + (a[n] == ',');
    }
    if (!pick[0]) {
        p->denied = 1;
        snprintf(p->last_result, sizeof(p->last_result), "connect error: " NF_DENIED);
        goto out;
    }
    snprintf(line, sizeof(line), "::%s:%s", pick, uport);
    p->connect_to = curl_slist_append(NULL, line);
    if (p->connect_to == NULL)
        msg_fatal("out of memory");
    rc = 0;
out:
    curl_free(uhost);
    curl_free(uport);
    curl_url_cleanup(u);
    return rc;
}

/*
 * notify_attempt_route - where the attempt connects: through notify_proxy
 * to the pinned address, else to what dns_servers resolves (or curl). 0
 * (set), 1 (a lookup is running: later), -1 (failed or denied:
 * last_result says why)
 */
int notify_attempt_route(struct nf_post *p)
{
    return *notify_conf.proxy ? proxy_pin(p) : resolve_list(p);
}

/*
 * notify_attempt_sign - the attempt's headers with a fresh signature in
 * p->hdrs: 0, or -1 when the post cannot be signed (the account, read
 * with result rc, does not exist, its secret or the endpoint's password cannot be
 * decrypted; last_result says which, logged): a post never goes out
 * unsigned
 */
int notify_attempt_sign(struct nf_post *p, const struct nf_account *a, enum tx_code rc)
{
    struct buf s1 = BUF_INIT(4096), s2 = BUF_INIT(4096), sig = BUF_INIT(1024);
    struct curl_slist *hdrs = NULL;
    int nsec = -1;

    if (rc == TX_OK)
        nsec = notify_sign_secrets(a, &s1, &s2);
    if (nsec >= 0)
        notify_sign_signature(&sig, timeutil_now_ms() / 1000, &s1, &s2, p->body, p->len);
    if (s1.data)
        explicit_bzero(s1.data, s1.len);
    if (s2.data)
        explicit_bzero(s2.data, s2.len);
    buf_free(&s1);
    buf_free(&s2);
    if (nsec >= 0 && build_headers(p, &sig, &hdrs) < 0) {
        nsec = -2;
        wipe_list(hdrs);
    }
    buf_free(&sig);
    if (nsec < 0) {
        snprintf(p->last_result, sizeof(p->last_result), "cannot sign: %s",
                 nsec == -2    ? "the endpoint password cannot be decrypted"
                 : rc == TX_OK ? "the webhook secret cannot be decrypted"
                               : "the account does not exist");
        msg_warn("%s: account %lld: %s; not posted unsigned", p->job_id, p->account_id,
                 p->last_result);
        notify_attempt_release(p);
        return -1;
    }
    p->hdrs = hdrs;
    return 0;
}

/* notify_attempt_easy - the transfer of one attempt, ready for the multi handle */
void *notify_attempt_easy(struct nf_post *p)
{
    CURL *c = curl_easy_init();

    if (c == NULL)
        msg_fatal("curl_easy_init failed");
    p->errbuf[0] = 0;
    p->rcvd = 0;
    curl_easy_setopt(c, CURLOPT_URL, p->ep.url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)p->hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)notify_conf.timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)notify_conf.timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (notify_conf.ca_file && *notify_conf.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, notify_conf.ca_file);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->errbuf);
    curl_easy_setopt(c, CURLOPT_PRIVATE, p);
    if (p->resolve)
        curl_easy_setopt(c, CURLOPT_RESOLVE, (struct curl_slist *)p->resolve);
    curl_easy_setopt(c, CURLOPT_PROXY,
                     notify_conf.proxy); /* "" : none, whatever the environment says */
    if (p->connect_to) {
        /* through the proxy: a tunnel to the checked address, for every host (no_proxy ignored) */
        curl_easy_setopt(c, CURLOPT_NOPROXY, "");
        curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, (struct curl_slist *)p->connect_to);
    }
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, p);
    return c;
}

/* notify_attempt_release - the header, resolve and connect-to lists of an attempt */
void notify_attempt_release(struct nf_post *p)
{
    wipe_list(p->hdrs);
    p->hdrs = NULL;
    curl_slist_free_all(p->resolve);
    p->resolve = NULL;
    curl_slist_free_all(p->connect_to);
    p->connect_to = NULL;
}

/*
 * notify_attempt_result - 1 when the finished attempt succeeded (any 2xx,
 * a response body over NF_RESPONSE_MAX not read); else 0 with last_result
 */
int notify_attempt_result(struct nf_post *p, int res, long status)
{
    if ((res == CURLE_OK || (res == CURLE_WRITE_ERROR && p->rcvd > NF_RESPONSE_MAX)) &&
        status >= 200 && status < 300)
        return 1;
    if (res == CURLE_OK || (res == CURLE_WRITE_ERROR && status > 0))
        snprintf(p->last_result, sizeof(p->last_result), "HTTP %ld", status);
    else if (p->denied)
        snprintf(p->last_result, sizeof(p->last_result), "connect error: " NF_DENIED);
    else if (res == CURLE_OPERATION_TIMEDOUT)
        snprintf(p->last_result, sizeof(p->last_result), "timeout");
    else
        snprintf(p->last_result, sizeof(p->last_result), "connect error: %.250s",
                 p->errbuf[0] ? p->errbuf : curl_easy_strerror((CURLcode)res));
    return 0;
}
