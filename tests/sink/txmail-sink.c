/*
 * NAME
 *   txmail-sink - SMTP sink that keeps every message it receives
 * SYNOPSIS
 *   txmail-sink -l 127.0.0.1:PORT -d DIR [-c cert.pem -k key.pem] [-T]
 *               [-H hostname]
 * DESCRIPTION
 *   A real SMTP peer for tests and the local stack. Every accepted
 *   message is written to DIR as <ms>-<pid>-<seq>.eml, the message text
 *   exactly as received (dot-unstuffing undone, CRLF kept), with a
 *   sidecar <same>.json: {"mailFrom","rcptTo":[...],"helo","tls",
 *   "client","mailParams"}. Files appear atomically (rename).
 *
 *   EHLO offers PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES
 *   and STARTTLS (with -c/-k, unless -T).
 *
 *   The recipient's local part chooses a behaviour, so tests can drive
 *   every delivery outcome through a real SMTP conversation:
 *     defer<N>-...   451 4.3.0 at RCPT for the first N attempts of that
 *                    address (counted by this sink process), then 250
 *     full-...       452 4.2.2 mailbox full at RCPT (every time)
 *     unknown-...    550 5.1.1 user unknown at RCPT
 *     reject-...     554 5.7.1 message refused at RCPT
 *     datafail-...   accepted at RCPT, 451 4.3.0 after the final dot
 *     dataperm-...   accepted at RCPT, 554 5.6.0 after the final dot
 *     drop-...       the connection is closed during DATA, no answer
 *     slow<N>-...    the RCPT answer is delayed N seconds
 *   Anything else is accepted.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096
#define MSG_MAX (64 * 1024 * 1024)
#define MAX_RCPT 2000

static const char *dir = ".";
static const char *hostname = "sink.test";
static SSL_CTX *tls_ctx;
static int no_starttls;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long seq;

struct attempt {
    char addr[320];
    int count;
    struct attempt *next;
};
static struct attempt *attempts;

struct conn {
    int fd;
    SSL *ssl;
    char client[64];
    char inbuf[65536];
    size_t inlen, inpos;
};

static ssize_t c_read(struct conn *c, void *buf, size_t len)
{
    if (c->ssl) {
        int n = SSL_read(c->ssl, buf, (int)len);
        return n > 0 ? n : -1;
    }
    return read(c->fd, buf, len);
}

static int c_write(struct conn *c, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = c->ssl ? SSL_write(c->ssl, buf, (int)len) : write(c->fd, buf, len);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int reply(struct conn *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
    va_end(ap);
    memcpy(line + n, "\r\n", 2);
    return c_write(c, line, (size_t)n + 2);
}

/* read_line - one line including CRLF; returns length, 0 on EOF, -1 too long */
static ssize_t read_line(struct conn *c, char *out, size_t max)
{
    size_t o = 0;

    for (;;) {
        if (c->inpos == c->inlen) {
            ssize_t n = c_read(c, c->inbuf, sizeof(c->inbuf));
            if (n <= 0)
                return 0;
            c->inlen = (size_t)n;
            c->inpos = 0;
        }
        char ch = c->inbuf[c->inpos++];
        if (o < max)
            out[o] = ch;
        o++;
        if (ch == '\n')
            return o <= max ? (ssize_t)o : -1;
    }
}

static int count_attempt(const char *addr)
{
    struct attempt *a;
    int n;

    pthread_mutex_lock(&lock);
    for (a = attempts; a; a = a->next)
        if (strcasecmp(a->addr, addr) == 0)
            break;
    if (a == NULL) {
        a = calloc(1, sizeof(*a));
        snprintf(a->addr, sizeof(a->addr), "%s", addr);
        a->next = attempts;
        attempts = a;
    }
    n = ++a->count;
    pthread_mutex_unlock(&lock);
    return n;
}

static void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(fp, "\\u%04x", ch);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
}

static int store(struct conn *c, const char *helo, const char *from, const char *params,
                 char rcpt[][320], int nrcpt, const char *data, size_t len)
{
    char base[512], tmp[600], path[600];
    struct timeval tv;
    FILE *fp;

    gettimeofday(&tv, NULL);
    pthread_mutex_lock(&lock);
    unsigned long n = ++seq;
    pthread_mutex_unlock(&lock);
    snprintf(base, sizeof(base), "%s/%lld-%d-%06lu", dir,
             (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000, (int)getpid(), n);
    snprintf(tmp, sizeof(tmp), "%s.json.tmp", base);
    snprintf(path, sizeof(path), "%s.json", base);
    if ((fp = fopen(tmp, "w")) == NULL)
        return -1;
    fprintf(fp, "{\"mailFrom\":");
    json_str(fp, from);
    fprintf(fp, ",\"mailParams\":");
    json_str(fp, params);
    fprintf(fp, ",\"rcptTo\":[");
    for (int i = 0; i < nrcpt; i++) {
        if (i)
            fputc(',', fp);
        json_str(fp, rcpt[i]);
    }
    fprintf(fp, "],\"helo\":");
    json_str(fp, helo);
    fprintf(fp, ",\"tls\":%s,\"client\":", c->ssl ? "true" : "false");
    json_str(fp, c->client);
    fprintf(fp, ",\"size\":%zu}\n", len);
    if (fclose(fp) != 0 || rename(tmp, path) != 0)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.eml.tmp", base);
    snprintf(path, sizeof(path), "%s.eml", base);
    if ((fp = fopen(tmp, "w")) == NULL)
        return -1;
    fwrite(data, 1, len, fp);
    if (fclose(fp) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

/* addr_of - the address inside <...> after "MAIL FROM:" / "RCPT TO:" */
static int addr_of(const char *arg, char *out, size_t outsz, const char **rest)
{
    const char *lt = strchr(arg, '<'), *gt;

    if (lt == NULL || (gt = strchr(lt, '>')) == NULL || (size_t)(gt - lt - 1) >= outsz)
        return -1;
    memcpy(out, lt + 1, (size_t)(gt - lt - 1));
    out[gt - lt - 1] = 0;
    if (rest) {
        *rest = gt + 1;
        while (**rest == ' ')
            (*rest)++;
    }
    return 0;
}

/* the state of one SMTP session */
struct sess {
    struct conn *c;
    char helo[256], from[320], params[512];
    char (*rcpt)[320];
    int nrcpt, have_mail, drop, datafail, dataperm;
};

static void cmd_ehlo(struct sess *ss, const char *line)
{
    struct conn *c = ss->c;

    snprintf(ss->helo, sizeof(ss->helo), "%.255s", line + 5);
    ss->have_mail = 0, ss->nrcpt = 0;
    if (toupper((unsigned char)line[0]) == 'H') {
        reply(c, "250 %s", hostname);
        return;
    }
    reply(c, "250-%s", hostname);
    reply(c, "250-PIPELINING");
    reply(c, "250-SIZE 104857600");
    reply(c, "250-8BITMIME");
    reply(c, "250-SMTPUTF8");
    if (tls_ctx && !no_starttls && c->ssl == NULL)
        reply(c, "250-STARTTLS");
    reply(c, "250 ENHANCEDSTATUSCODES");
}

static void cmd_mail(struct sess *ss, const char *line)
{
    const char *rest;

    if (addr_of(line + 10, ss->from, sizeof(ss->from), &rest) < 0) {
        reply(ss->c, "501 5.1.7 Bad sender address syntax");
        return;
    }
    snprintf(ss->params, sizeof(ss->params), "%.500s", rest);
    ss->have_mail = 1, ss->nrcpt = 0, ss->drop = ss->datafail = ss->dataperm = 0;
    reply(ss->c, "250 2.1.0 Ok");
}

/* cmd_rcpt - the recipient's local part chooses the behaviour (see the top) */
static void cmd_rcpt(struct sess *ss, const char *line)
{
    struct conn *c = ss->c;
    char addr[320];
    int k;

    if (!ss->have_mail) {
        reply(c, "503 5.5.1 Error: need MAIL command");
        return;
    }
    if (addr_of(line + 8, addr, sizeof(addr), NULL) < 0) {
        reply(c, "501 5.1.3 Bad recipient address syntax");
        return;
    }
    if (sscanf(addr, "slow%d-", &k) == 1 && k > 0 && k < 600)
        sleep((unsigned)k);
    if (sscanf(addr, "defer%d-", &k) == 1 && count_attempt(addr) <= k) {
        reply(c, "451 4.3.0 <%s>: temporarily deferred by test sink", addr);
        return;
    }
    if (strncasecmp(addr, "full-", 5) == 0) {
        reply(c, "452 4.2.2 <%s>: mailbox full", addr);
        return;
    }
    if (strncasecmp(addr, "unknown-", 8) == 0) {
        reply(c, "550 5.1.1 <%s>: Recipient address rejected: User unknown", addr);
        return;
    }
    if (strncasecmp(addr, "reject-", 7) == 0) {
        reply(c, "554 5.7.1 <%s>: message refused", addr);
        return;
    }
    if (strncasecmp(addr, "drop-", 5) == 0)
        ss->drop = 1;
    if (strncasecmp(addr, "datafail-", 9) == 0)
        ss->datafail = 1;
    if (strncasecmp(addr, "dataperm-", 9) == 0)
        ss->dataperm = 1;
    if (ss->nrcpt < MAX_RCPT)
        snprintf(ss->rcpt[ss->nrcpt++], 320, "%s", addr);
    reply(c, "250 2.1.5 Ok");
}

/* cmd_data - the message up to the final dot, then its reply; -1: close the connection */
static int cmd_data(struct sess *ss, char *line)
{
    struct conn *c = ss->c;
    size_t cap = 1 << 20, len = 0;
    char *data;
    int ok = 0, toolong = 0;
    ssize_t n;

    if (!ss->have_mail || ss->nrcpt == 0) {
        reply(c, "554 5.5.1 Error: no valid recipients");
        return 0;
    }
    reply(c, "354 End data with <CR><LF>.<CR><LF>");
    data = malloc(cap);
    while ((n = read_line(c, line, LINE_MAX_LEN)) != 0) {
        if (n < 0) {
            toolong = 1;
            continue;
        }
        if (n == 3 && memcmp(line, ".\r\n", 3) == 0) {
            ok = 1;
            break;
        }
        const char *p = line;
        if (line[0] == '.')
            p++, n--;
        if (len + (size_t)n > MSG_MAX)
            toolong = 1;
        else {
            while (len + (size_t)n > cap)
                cap *= 2, data = realloc(data, cap);
            memcpy(data + len, p, (size_t)n);
            len += (size_t)n;
        }
        if (ss->drop && len > 0) {
            free(data);
            return -1;
        }
    }
    if (!ok) {
        free(data);
        return -1;
    }
    if (toolong)
        reply(c, "552 5.3.4 Message too big or line too long");
    else if (ss->datafail)
        reply(c, "451 4.3.0 Error: queue file write error (test sink)");
    else if (ss->dataperm)
        reply(c, "554 5.6.0 Error: message content rejected (test sink)");
    else if (store(c, ss->helo, ss->from, ss->params, ss->rcpt, ss->nrcpt, data, len) < 0)
        reply(c, "451 4.3.0 Error: cannot store message");
    else
        reply(c, "250 2.0.0 Ok: queued as sink%lu", seq);
    free(data);
    ss->have_mail = 0, ss->nrcpt = 0;
    return 0;
}

static void *session(void *arg)
{
    struct conn *c = arg;
    char line[LINE_MAX_LEN + 2];
    struct sess ss;
    ssize_t n;

    memset(&ss, 0, sizeof(ss));
    ss.c = c;
    ss.rcpt = calloc(MAX_RCPT, 320);
    reply(c, "220 %s ESMTP txmail-sink", hostname);
    while ((n = read_line(c, line, LINE_MAX_LEN)) != 0) {
        if (n < 0) {
            reply(c, "500 5.5.2 Line too long");
            continue;
        }
        line[n] = 0;
        line[strcspn(line, "\r\n")] = 0;
        if (strncasecmp(line, "EHLO ", 5) == 0 || strncasecmp(line, "HELO ", 5) == 0) {
            cmd_ehlo(&ss, line);
        } else if (strcasecmp(line, "STARTTLS") == 0 && tls_ctx && !no_starttls && !c->ssl) {
            reply(c, "220 2.0.0 Ready to start TLS");
            c->ssl = SSL_new(tls_ctx);
            SSL_set_fd(c->ssl, c->fd);
            c->inlen = c->inpos = 0;
            if (SSL_accept(c->ssl) <= 0)
                break;
            ss.helo[0] = 0, ss.have_mail = 0, ss.nrcpt = 0;
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            cmd_mail(&ss, line);
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            cmd_rcpt(&ss, line);
        } else if (strcasecmp(line, "DATA") == 0) {
            if (cmd_data(&ss, line) < 0)
                break;
        } else if (strcasecmp(line, "RSET") == 0) {
            ss.have_mail = 0, ss.nrcpt = 0;
            reply(c, "250 2.0.0 Ok");
        } else if (strcasecmp(line, "NOOP") == 0) {
            reply(c, "250 2.0.0 Ok");
        } else if (strcasecmp(line, "QUIT") == 0) {
            reply(c, "221 2.0.0 Bye");
            break;
        } else {
            reply(c, "502 5.5.2 Error: command not recognized");
        }
    }
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(c->fd);
    free(ss.rcpt);
    free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *listen_at = "127.0.0.1:2526", *cert = NULL, *key = NULL;
    int opt, fd, one = 1;
    struct sockaddr_in sin;

    while ((opt = getopt(argc, argv, "l:d:c:k:TH:")) != -1) {
        switch (opt) {
        case 'l':
            listen_at = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'c':
            cert = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'T':
            no_starttls = 1;
            break;
        case 'H':
            hostname = optarg;
            break;
        default:
            fprintf(stderr,
                    "usage: txmail-sink -l addr:port -d dir [-c cert -k key] [-T] [-H host]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (cert && key) {
        tls_ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
        if (SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "txmail-sink: cannot load %s / %s\n", cert, key);
            return 1;
        }
    }
    char host[64];
    const char *colon = strrchr(listen_at, ':');
    if (colon == NULL || (size_t)(colon - listen_at) >= sizeof(host)) {
        fprintf(stderr, "txmail-sink: -l addr:port\n");
        return 2;
    }
    memcpy(host, listen_at, (size_t)(colon - listen_at));
    host[colon - listen_at] = 0;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) {
        fprintf(stderr, "txmail-sink: bad port %s\n", colon + 1);
        return 2;
    }
    sin.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        fprintf(stderr, "txmail-sink: bad address %s\n", host);
        return 2;
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 512) < 0) {
        fprintf(stderr, "txmail-sink: cannot listen on %s: %s\n", listen_at, strerror(errno));
        return 1;
    }
    for (;;) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        int cfd = accept(fd, (struct sockaddr *)&peer, &plen);
        if (cfd < 0)
            continue;
        struct conn *c = calloc(1, sizeof(*c));
        c->fd = cfd;
        inet_ntop(AF_INET, &peer.sin_addr, c->client, sizeof(c->client));
        struct timeval tv = {300, 0};
        setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, session, c) != 0) {
            close(cfd);
            free(c);
        }
        pthread_attr_destroy(&attr);
    }
}
