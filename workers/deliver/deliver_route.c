/*
 * deliver_route - where the mail for a recipient domain goes.
 *
 * In order: the sender domain's relay host (Relay Service, contract
 * §16.9); the transport map (deliver_transport_map: "domain host[:port]"
 * lines, ".domain" for every subdomain, "*" for everything, '#'
 * comments; the file is read again when it changes); else the
 * recipient domain's MX. A relay host or transport host is used as given
 * (its A/AAAA records, or a literal address, "[name]" accepted as in
 * Postfix), never its MX. Ports default to deliver_smtp_port.
 */
#include "workers/deliver/deliver.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAP_MAX_ENTRIES 100000

struct map_entry {
    char *domain; /* lowercase; ".x" = subdomains; "*" = all */
    char *value;
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct map_entry *map;
static size_t nmap;
static struct timespec map_mtime;
static int64_t map_checked;

int deliver_route_parse_host(const char *spec, char *host, size_t hostsz, int *port)
{
    const char *p = spec, *end;
    size_t n;

    *port = (int)deliver_conf.smtp_port;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '[') {
        end = strchr(p, ']');
        if (end == NULL)
            return -1;
        n = (size_t)(end - p - 1);
        p++;
        end++;
    } else {
        const char *colon = strrchr(p, ':');
        /* a bare IPv6 literal has several colons: no port then */
        if (colon && strchr(p, ':') != colon)
            colon = NULL;
        end = colon ? colon : p + strlen(p);
        n = (size_t)(end - p);
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= hostsz)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '.' && p[i] != '-' && p[i] != ':' &&
            p[i] != '_')
            return -1;
    memcpy(host, p, n);
    host[n] = 0;
    if (*end == ':') {
        char *e;
        long v = strtol(end + 1, &e, 10);
        while (*e == ' ' || *e == '\t')
            e++;
        if (e == end + 1 || *e || v < 1 || v > 65535)
            return -1;
        *port = (int)v;
    } else if (*end && *end != ' ' && *end != '\t') {
        return -1;
    }
    return 0;
}

static void map_free(struct map_entry *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        xfree(m[i].domain);
        xfree(m[i].value);
    }
    xfree(m);
}

/* map_load - read the file; -1 (and the old map stays) on failure */
static int map_load(const char *path, int fatal)
{
    FILE *fp = fopen(path, "r");
    struct map_entry *m = NULL;
    size_t n = 0, cap = 0;
    char line[1024];
    int lineno = 0;
    struct stat st;

    if (fp == NULL) {
        if (fatal)
            msg_fatal("deliver_transport_map %s: %m", path);
        msg_warn("deliver_transport_map %s: %m (keeping the routes loaded before)", path);
        return -1;
    }
    if (fstat(fileno(fp), &st) == 0)
        map_mtime = st.st_mtim;
    while (fgets(line, sizeof(line), fp)) {
        char dom[300], val[600], host[DNS_NAME_MAX], more[2];
        int port;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        if (sscanf(line, "%299s %599s %1s", dom, val, more) != 2) {
            if (strspn(line, " \t\r\n") != strlen(line))
                msg_warn("%s:%d: ignored (want \"domain host[:port]\")", path, lineno);
            continue;
        }
        if (deliver_route_parse_host(val, host, sizeof(host), &port) < 0) {
            msg_warn("%s:%d: bad host \"%s\": ignored", path, lineno, val);
            continue;
        }
        if (n == cap) {
            if (cap >= MAP_MAX_ENTRIES) {
                msg_warn("%s: more than %d entries: the rest is ignored", path, MAP_MAX_ENTRIES);
                break;
            }
            cap = cap ? cap * 2 : 16;
            m = xrealloc(m, cap * sizeof(*m));
        }
        for (char *p = dom; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        m[n].domain = xstrdup(dom);
        m[n].value = xstrdup(val);
        n++;
    }
    fclose(fp);
    pthread_mutex_lock(&map_lock);
    map_free(map, nmap);
    map = m;
    nmap = n;
    pthread_mutex_unlock(&map_lock);
    return 0;
}

int deliver_route_init(void)
{
    if (*deliver_conf.transport_map)
        map_load(deliver_conf.transport_map, 1);
    map_checked = timeutil_mono_ms();
    return 0;
}

/* map_refresh - reload the file when it changed (checked every 2 s) */
static void map_refresh(void)
{
    struct stat st;
    int64_t now = timeutil_mono_ms();
    int changed = 0;

    pthread_mutex_lock(&map_lock);
    if (now - map_checked >= 2000) {
        map_checked = now;
        if (stat(deliver_conf.transport_map, &st) == 0 &&
            (st.st_mtim.tv_sec != map_mtime.tv_sec || st.st_mtim.tv_nsec != map_mtime.tv_nsec))
            changed = 1;
    }
    pthread_mutex_unlock(&map_lock);
    if (changed)
        map_load(deliver_conf.transport_map, 0);
}

int deliver_route_transport_lookup(const char *domain, char *value, size_t valsz)
{
    int found = 0;
    size_t dlen = strlen(domain);
    const char *best = NULL;
    size_t bestlen = 0;

    if (!*deliver_conf.transport_map)
        return 0;
    map_refresh();
    pthread_mutex_lock(&map_lock);
    for (size_t i = 0; i < nmap; i++) {
        const char *d = map[i].domain;
        size_t len = strlen(d);
        if (strcasecmp(d, domain) == 0) {
            best = map[i].value;
            break; /* an exact entry wins */
        }
        if (d[0] == '.' && dlen > len && strcasecmp(domain + dlen - len, d) == 0 && len > bestlen) {
            best = map[i].value;
            bestlen = len;
        } else if (strcmp(d, "*") == 0 && best == NULL) {
            best = map[i].value;
        }
    }
    if (best) {
        snprintf(value, valsz, "%s", best);
        found = 1;
    }
    pthread_mutex_unlock(&map_lock);
    return found;
}

int deliver_route(const char *rcpt_domain, const char *relay, struct route *r, char *err,
                  size_t errsz)
{
    char value[600];

    memset(r, 0, sizeof(*r));
    if (relay && *relay) {
        if (deliver_route_parse_host(relay, r->host, sizeof(r->host), &r->port) < 0) {
            snprintf(err, errsz, "relay host \"%s\" is not host[:port]", relay);
            return -1;
        }
        snprintf(r->via, sizeof(r->via), "relay");
    } else if (deliver_route_transport_lookup(rcpt_domain, value, sizeof(value))) {
        if (deliver_route_parse_host(value, r->host, sizeof(r->host), &r->port) < 0) {
            snprintf(err, errsz, "transport map entry \"%s\" is not host[:port]", value);
            return -1;
        }
        snprintf(r->via, sizeof(r->via), "transport");
    } else {
        snprintf(r->host, sizeof(r->host), "%s", rcpt_domain);
        r->port = (int)deliver_conf.smtp_port;
        r->use_mx = 1;
        snprintf(r->via, sizeof(r->via), "mx");
    }
    snprintf(r->nexthop, sizeof(r->nexthop), "%s:%s:%d", r->via, r->host, r->port);
    for (char *p = r->nexthop; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}
