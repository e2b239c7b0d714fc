/*
 * render_track - the issue 7 hooks of txmail-render (render_hooks.h):
 * template rendering with lib/global/template (parsed once per job,
 * rendered per block), open and link tracking with lib/global/tracklinks
 * (the block's HTML scanned once, one rewritten copy per address with
 * that address's tokens), and txmail's one-click unsubscribe URL.
 *
 * The tracking base is the sender domain's tracking host (a customer's
 * CNAME, sender_domain.tracking_host) or else tracking_base_url, and the
 * tokens are bound to its host (tracklinks, contract §15.5: a link of one
 * tenant's host does not verify on another's); the
 * tokens' expiry is the send time plus the account's tracking window
 * (data.settings.trackingWindowDays) for opens and clicks, plus 45 days
 * for the unsubscribe URL (contract §15.5).
 *
 * Without tracking keys (tracking_keys_file) tracking is impossible: the
 * copy is sent untracked and without txmail's URL, and the problem is
 * logged once - mail is never held back for it.
 */
#include "global/ids.h"
#include "global/template/template.h"
#include "global/tracking/tracklinks.h"
#include "global/tracking/tracktoken.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"
#include "workers/render/render_hooks.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DAY_S 86400

struct tpl_state {
    struct template *tpl[3];
    int parsed[3]; /* 1 parsed, -1 syntax error */
    char syntax[3][TEMPLATE_ERR_MAX];
    /* the tracking plan of the block being copied */
    json_t *plan_block;
    const char *plan_html;
    size_t plan_len;
    struct tracklinks_plan *plan;
    char base[600]; /* "" until looked up */
};

static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static struct track_keys *keys;

static void keys_load(void)
{
    char err[256];

    if (txconf.tracking_keys == NULL || !*txconf.tracking_keys) {
        msg_warn("tracking_keys_file is not set: messages are sent without tracking "
                 "and without txmail's one-click unsubscribe URL");
        return;
    }
    if ((keys = tracktoken_keys_parse(txconf.tracking_keys, err, sizeof(err))) == NULL)
        msg_warn("%s: messages are sent without tracking and without txmail's one-click "
                 "unsubscribe URL",
                 err);
}

static struct tpl_state *state(struct render_run *run)
{
    if (run->tpl_state == NULL)
        run->tpl_state = xcalloc(1, sizeof(struct tpl_state));
    return run->tpl_state;
}

static const char *const part_names[] = {"subject", "body", "alternative"};

int render_track_template_part(struct render_run *run, enum render_part part, const char *src,
                               size_t len, json_t *personalization, struct buf *out, char *err,
                               size_t errsz)
{
    struct tpl_state *st = state(run);
    json_t *settings = json_object_get(run->data, "settings");
    const char *ct =
        json_string_value(json_object_get(json_object_get(run->data, "body"), "contentType"));
    struct template_opts o = {0, 0, 0};

    if (part < PART_SUBJECT || part > PART_ALTERNATIVE) {
        snprintf(err, errsz, "unknown template part");
        return -1;
    }
    if (st->parsed[part] == 0) {
        /* once per job; rest refused syntax errors at intake, so this is a job
         * from elsewhere (or an older engine): the blocks fail, naming the error */
        if (template_parse(src, len, part_names[part], &st->tpl[part], st->syntax[part],
                           sizeof(st->syntax[part])) < 0)
            st->parsed[part] = -1;
        else
            st->parsed[part] = 1;
    }
    if (st->parsed[part] < 0) {
        snprintf(err, errsz, "Invalid format for %s.template: %s", part_names[part],
                 st->syntax[part]);
        return -1;
    }
    o.auto_escape_html = part == PART_BODY && ct && strcasecmp(ct, "text/html") == 0 &&
                         json_is_true(json_object_get(settings, "autoEscapeHtml"));
    if (!json_is_object(personalization))
        personalization = NULL;
    return template_render(st->tpl[part], personalization, &o, out, err, errsz);
}

/* base - the tracking base URL of the job's sender domain (from the domain cache) */
static const char *base(struct render_run *run, struct tpl_state *st)
{
    const char *host = run->dom && run->dom->found ? run->dom->tracking_host : NULL;

    if (st->base[0])
        return st->base;
    if (host && *host && strlen(host) < sizeof(st->base) - 16)
        snprintf(st->base, sizeof(st->base), "%s%s", strstr(host, "://") ? "" : "https://", host);
    else
        snprintf(st->base, sizeof(st->base), "%s", txconf.tracking_base_url);
    size_t n = strlen(st->base);
    while (n > 0 && st->base[n - 1] == '/')
        st->base[--n] = 0;
    return st->base;
}

/* copy_of - the tracking parameters of r's copy; -1 without keys or a usable rid */
static int copy_of(struct render_run *run, struct tpl_state *st, const struct render_rcpt *r,
                   struct tracklinks_copy *c)
{
    json_t *days = json_object_get(json_object_get(run->data, "settings"), "trackingWindowDays");
    long long d = json_is_integer(days) ? json_integer_value(days) : 10;

    pthread_once(&keys_once, keys_load);
    if (keys == NULL)
        return -1;
    memset(c, 0, sizeof(*c));
    if (ids_rid_parse(r->rid, &c->job, &c->block, &c->addr) < 0)
        return -1;
    if (d < 1 || d > 3650)
        d = 10;
    c->base = base(run, st);
    /* tokens are bound to the base's host (contract §15.5): without one, untracked */
    char host[TRACK_HOST_MAX + 1];
    if (tracktoken_host(c->base, host, sizeof(host)) < 0) {
        static int warned;
        if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
            msg_warn("tracking base URL \"%s\" has no host: messages are sent without tracking "
                     "and without txmail's one-click unsubscribe URL",
                     c->base);
        return -1;
    }
    c->keys = keys;
    c->expiry = (uint32_t)(timeutil_now_ms() / 1000 + d * DAY_S);
    return 0;
}

int render_track_html(struct render_run *run, const struct render_rcpt *r, json_t *block, int open,
                      int link, const char *html, size_t len, const char *const *unsub,
                      size_t nunsub, struct buf *out, char *err, size_t errsz)
{
    struct tpl_state *st = state(run);
    struct tracklinks_copy c;

    if (!open && !link)
        return 0;
    if (copy_of(run, st, r, &c) < 0)
        return 0; /* logged once by keys_load: sent untracked */
    if (st->plan == NULL || st->plan_block != block || st->plan_html != html ||
        st->plan_len != len) {
        tracklinks_plan_free(st->plan);
        st->plan = tracklinks_scan(html, len, unsub, nunsub, c.base);
        st->plan_block = block;
        st->plan_html = html;
        st->plan_len = len;
    }
    c.links = link;
    c.open = open;
    if (tracklinks_emit(st->plan, &c, out) < 0) {
        snprintf(err, errsz, "HTML part with tracking exceeds %zu bytes", out->max);
        return -1;
    }
    return 1;
}

int render_track_unsubscribe_url(struct render_run *run, const struct render_rcpt *r, char *out,
                                 size_t outsz)
{
    struct tpl_state *st;
    struct tracklinks_copy c;
    struct buf b = BUF_INIT(outsz > 0 ? outsz - 1 : 0);
    int rc = 0;

    if (outsz)
        out[0] = 0;
    if (!json_is_true(
            json_object_get(json_object_get(run->data, "settings"), "oneClickUnsubscribe")))
        return 0;
    st = state(run);
    if (copy_of(run, st, r, &c) < 0)
        return 0;
    /* not bound to the tracking window: as long as the message record lives */
    if (tracklinks_url_for(&c, TRACK_UNSUB, NULL, 0,
                           (uint32_t)(timeutil_now_ms() / 1000 + TRACK_UNSUB_DAYS * DAY_S),
                           &b) == 0 &&
        b.len > 0 && b.len < outsz) {
        memcpy(out, b.data, b.len + 1);
        rc = 1;
    }
    buf_free(&b);
    return rc;
}

void render_track_run_done(struct render_run *run)
{
    struct tpl_state *st = run->tpl_state;

    if (st == NULL)
        return;
    for (int i = 0; i < 3; i++)
        template_free(st->tpl[i]);
    tracklinks_plan_free(st->plan);
    xfree(st);
    run->tpl_state = NULL;
}
