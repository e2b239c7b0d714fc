/*
 * rest_answer - the answers of txmail-rest: the 200 of an accepted job
 * (contract §5.1), rejections of job requests (§6.1: with a fresh jobId
 * and phase), errors of the other endpoints (§3.4), and the one answer
 * written past MHD: 413 for a chunked body that grew over the limit,
 * which MHD 0.9.75 cannot queue in the middle of an upload.
 */
#include "producers/rest/rest.h"
#include "global/metrics.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

enum MHD_Result rest_answer_reply(struct rest_req *r, int status, const char *body, size_t len,
                                  const struct rest_header *headers)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;
    char code[8];

    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (; headers && headers->name; headers++)
        MHD_add_response_header(resp, headers->name, headers->value);
    rc = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    snprintf(code, sizeof(code), "%d", status);
    metrics_count("txmail_rest_requests_total", "status", code, 1);
    return rc;
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);

    json_decref(j);
    if (s == NULL)
        msg_panic("cannot encode an answer");
    return s;
}

static char *rejection_body(const char *job_id, const char *subtype, const char *description)
{
    return dump(json_pack("{s:{s:s,s:{s:s,s:s,s:s,s:s}}}", "meta", "jobId", job_id, "state", "type",
                          "REJECTED", "subType", subtype, "phase", "PRE_PROCESS", "description",
                          description));
}

enum MHD_Result rest_answer_reject(struct rest_req *r, int status, const char *subtype,
                                   const char *description)
{
    struct rest_header h[3] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
    char *body = rejection_body(r->job_id, subtype, description);
    char safe[300], retry[16];
    int n = 0;

    if (status == 401)
        h[n++] = (struct rest_header){MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"txmail\""};
    else if (status == 503 || status == 409 || status == 429) {
        snprintf(retry, sizeof(retry), "%d", r->retry_after > 0 ? r->retry_after : 1);
        h[n++] = (struct rest_header){MHD_HTTP_HEADER_RETRY_AFTER, retry};
    }
    msg_info("%s: client=%s, account=%s, status=rejected (%d %s %s)", r->job_id, r->client_ip,
             r->authed ? r->acct.name : "-", status, subtype,
             msg_printable(safe, sizeof(safe), description, strlen(description)));
    enum MHD_Result rc = rest_answer_reply(r, status, body, strlen(body), h);
    xfree(body);
    return rc;
}

static char *error_body(const char *subtype, const char *description)
{
    return dump(json_pack("{s:{s:{s:s,s:s,s:s}}}", "meta", "state", "type", "REJECTED", "subType",
                          subtype, "description", description));
}

enum MHD_Result rest_answer_error(struct rest_req *r, int status, const char *subtype,
                                  const char *description, const struct rest_header *headers)
{
    char *body = error_body(subtype, description);
    char retry[16];

    /* a 503 tells when to retry, as the job rejections do (contract §3.4, §6.1) */
    snprintf(retry, sizeof(retry), "%d", r->retry_after > 0 ? r->retry_after : 1);
    const struct rest_header h503[] = {{MHD_HTTP_HEADER_RETRY_AFTER, retry}, {NULL, NULL}};
    if (status == 503 && headers == NULL)
        headers = h503;
    enum MHD_Result rc = rest_answer_reply(r, status, body, strlen(body), headers);

    xfree(body);
    return rc;
}

char *rest_answer_accepted(const char *job_id, int64_t received_ms, int part, json_t *content)
{
    char ts[32];

    timeutil_iso8601(ts, sizeof(ts), received_ms);
    return dump(json_pack("{s:{s:s,s:s,s:{s:s,s:s,s:s}},s:O}", "meta", "jobId", job_id,
                          "receivedTs", ts, "state", "type", "ACCEPTED", "subType",
                          part ? "PART" : "FULL", "phase", "PRE_PROCESS", "content", content));
}

char *rest_answer_location(const char *job_id)
{
    return xasprintf("%s%s/%s", rest_conf.base_path, rest_conf.jobs_path, job_id);
}

/* send_all - write past MHD on the connection's socket or TLS session, waiting at most 2 s */
static void send_all(struct rest_req *r, const char *data, size_t len)
{
    const union MHD_ConnectionInfo *ci;
    int64_t deadline = timeutil_mono_ms() + 2000;
    int fd;

    ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL)
        return;
    fd = ci->connect_fd;
    gnutls_session_t tls = NULL;
    if (r->tls) {
        ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (ci == NULL)
            return;
        tls = (gnutls_session_t)ci->tls_session;
    }
    while (len > 0 && timeutil_mono_ms() < deadline) {
        ssize_t n = tls ? gnutls_record_send(tls, data, len) : send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (tls ? (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                : (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, 100);
            continue;
        }
        return;
    }
    if (!tls)
        shutdown(fd, SHUT_WR);
}

void rest_answer_raw(struct rest_req *r, int status, const char *subtype, const char *description)
{
    /* job creation rejects (§6.1); the other endpoints answer the §3.4 envelope */
    char *body =
        r->rt ? error_body(subtype, description) : rejection_body(r->job_id, subtype, description);
    char *msg =
        xasprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                  "Cache-Control: no-store\r\nConnection: close\r\n"
                  "Content-Length: %zu\r\n\r\n%s",
                  status, status == 413 ? "Payload Too Large" : "Error", strlen(body), body);
    char code[8];

    msg_info("%s: client=%s, account=%s, status=rejected (%d %s %s)", r->job_id, r->client_ip,
             r->authed ? r->acct.name : "-", status, subtype, description);
    send_all(r, msg, strlen(msg));
    snprintf(code, sizeof(code), "%d", status);
    metrics_count("txmail_rest_requests_total", "status", code, 1);
    xfree(msg);
    xfree(body);
}
