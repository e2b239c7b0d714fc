/*
 * spamcheck_job - one message through the spam score check: read the
 * job's spamCheck options, score the message with spamd, raise the
 * SPAM_SCORE_CHECK event, then forward the message or drop it. The
 * manual is spamcheck.c.
 */
#include "workers/spamcheck/spamcheck.h"
#include "global/event.h"
#include "global/metrics.h"
#include "global/spamc/spamc.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"
#include "util/ttlcache.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct scheck {
    const char *rcpt;
    int active, block;
    double threshold;
    size_t sent; /* bytes sent to spamd */
    int ok;      /* spamd answered */
    int cached;  /* the block's score, from an earlier address */
    struct spamc_result res;
    char why[300]; /* why not, when !ok */
};

/*
 * The score of each block (job id + block index: the recipient id without
 * its address index), kept after spamd's answer for the block's other
 * addresses: their messages differ only in the address fields and ids.
 */
static const struct ttlcache_type block_type = {sizeof(struct spamc_result), NULL, NULL};
static struct ttlcache *block_cache;

int spamcheck_job_init(void)
{
    block_cache = ttlcache_create(&block_type, (size_t)spamcheck_conf.cache_size, TTLCACHE_LOCKED);
    return 0;
}

void spamcheck_job_done(void)
{
    ttlcache_free(block_cache);
    block_cache = NULL;
}

/* block_key - the rid up to its last '#' (job#block), or "" */
static void block_key(char *out, size_t outsz, const char *rid)
{
    const char *h = strrchr(rid, '#');
    size_t n = h ? (size_t)(h - rid) : 0;

    if (n >= outsz)
        n = 0;
    memcpy(out, rid, n);
    out[n] = 0;
}

/* score - the block's cached score, else spamd's (cached when it answered) */
static void score(const struct job *job, struct scheck *c)
{
    char key[sizeof(job->env.rid)];

    block_key(key, sizeof(key), job->env.rid);
    if (key[0] && block_cache && ttlcache_get(block_cache, key, &c->res)) {
        c->ok = c->cached = 1;
        return;
    }
    c->ok = spamc_check(spamcheck_conf.spamd, (int)spamcheck_conf.connect_ms,
                        (int)spamcheck_conf.timeout_ms, job->env.raw, c->sent, &c->res, NULL, 0,
                        c->why, sizeof(c->why)) == 0;
    if (c->ok && key[0] && block_cache)
        ttlcache_put(block_cache, key, &c->res, spamcheck_conf.cache_ttl_ms);
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

size_t spamcheck_job_scan_len(const char *raw, size_t len, size_t max)
{
    const char *nl;

    if (len <= max)
        return len;
    nl = max > 0 ? memrchr(raw, '\n', max) : NULL;
    return nl ? (size_t)(nl - raw) + 1 : max;
}

/* options - data.options.spamCheck {active, mode, threshold} */
static void options(json_t *data, struct scheck *c)
{
    json_t *o = json_object_get(json_object_get(data, "options"), "spamCheck");
    json_t *t = json_object_get(o, "threshold");
    const char *mode = str(o, "mode");

    c->active = json_is_true(json_object_get(o, "active"));
    c->block = mode && strcmp(mode, "block-above") == 0;
    c->threshold = SPAMCHECK_THRESHOLD;
    if (json_is_number(t) && isfinite(json_number_value(t)))
        c->threshold = json_number_value(t);
}

static json_t *spamscore(const struct scheck *c)
{
    json_t *o = json_object(), *rules = json_array();

    if (c->ok)
        json_object_set_new(o, "score", json_real(c->res.score));
    json_object_set_new(o, "threshold", json_real(c->threshold));
    for (int i = 0; c->ok && i < c->res.nrules; i++) {
        const struct spamc_rule *ru = &c->res.rules[i];

        json_array_append_new(rules, json_pack("{s:s, s:f, s:s}", "name", ru->name, "score",
                                               ru->score, "description", ru->description));
    }
    json_object_set_new(o, "rules", rules);
    return o;
}

/* base_event - what both events of the message carry */
static void base_event(struct tx_event *ev, const struct job *job, size_t len)
{
    json_t *d = job->env.data;

    event_init(ev);
    ev->rid = job->env.rid;
    ev->job_id = job->env.job_id;
    ev->account_id = job->env.account_id;
    ev->received_ms = job->env.created_ms;
    ev->email = str(d, "email") ? str(d, "email") : str(d, "rcpt");
    ev->from = str(d, "from") ? str(d, "from") : str(d, "mailFrom");
    ev->mime_from = str(d, "mimeFrom");
    ev->rewrite_from = str(d, "rewriteFrom");
    ev->reference = str(d, "reference");
    ev->message_id = str(d, "messageId");
    ev->size = (long long)len;
}

/* events - SPAM_SCORE_CHECK, and the drop when the score blocks; 1 when dropped */
static int events(struct job *job, const struct scheck *c)
{
    struct tx_event ev;
    json_t *content = json_object();
    char desc[200];
    int drop = c->ok && c->block && c->res.score > c->threshold;

    base_event(&ev, job, job->env.raw_len);
    json_object_set_new(content, "spamscore", spamscore(c));
    ev.phase = "POST_PROCESS", ev.state = "POST_DELIVERY";
    ev.type = "SPAM_SCORE_CHECK", ev.subtype = "INFORMATION";
    if (!c->ok)
        snprintf(desc, sizeof(desc), "spam check unavailable");
    else if (c->sent < job->env.raw_len)
        snprintf(desc, sizeof(desc),
                 "score %.1f (threshold %.1f, scored on the first %zu of %zu bytes)", c->res.score,
                 c->threshold, c->sent, job->env.raw_len);
    else
        snprintf(desc, sizeof(desc), "score %.1f (threshold %.1f)", c->res.score, c->threshold);
    ev.description = desc;
    ev.content = content;
    worker_job_event(job, &ev);
    json_decref(content);
    if (!drop)
        return 0;
    base_event(&ev, job, job->env.raw_len);
    ev.phase = "PROCESS", ev.state = "FINISHED", ev.type = "DROPPED", ev.subtype = "SPAM_DETECTED";
    snprintf(desc, sizeof(desc), "spam score %.1f above the threshold %.1f", c->res.score,
             c->threshold);
    ev.description = desc;
    worker_job_event(job, &ev);
    return 1;
}

/* log_outcome - the message's one log line, and its count */
static void log_outcome(const struct job *job, const struct scheck *c, const char *status,
                        int64_t t0)
{
    char rcpt[256], why[300];
    double secs = (double)(timeutil_now_ms() - t0) / 1000.0;

    msg_printable(rcpt, sizeof(rcpt), c->rcpt, strlen(c->rcpt));
    if (c->ok)
        msg_info("%s: to=<%s>, size=%zu, sent=%zu, score=%.1f, threshold=%.1f, mode=%s, rules=%d, "
                 "cached=%s, delay=%.3f, status=%s",
                 job->env.rid, rcpt, job->env.raw_len, c->sent, c->res.score, c->threshold,
                 c->block ? "block-above" : "score-only", c->res.nrules, c->cached ? "yes" : "no",
                 secs, status);
    else
        msg_info("%s: to=<%s>, size=%zu, threshold=%.1f, mode=%s, delay=%.3f, status=%s (%s)",
                 job->env.rid, rcpt, job->env.raw_len, c->threshold,
                 c->block ? "block-above" : "score-only", secs, status,
                 msg_printable(why, sizeof(why), c->why, strlen(c->why)));
    metrics_count("txmail_spamcheck_total", "status", status, 1);
}

enum tx_code spamcheck_job_handle(struct job *job)
{
    struct scheck *c;
    int64_t t0 = timeutil_now_ms();
    enum tx_code code = TX_OK;

    if (strcmp(job->env.type, "message") != 0 || !job->env.rid[0] || job->env.raw_len == 0 ||
        str(job->env.data, "rcpt") == NULL) {
        worker_job_reason(job, "not a message envelope with rid, data.rcpt and raw content");
        return TX_REJECT_MALFORMED;
    }
    c = xcalloc(1, sizeof(*c));
    c->rcpt = str(job->env.data, "rcpt");
    options(job->env.data, c);
    if (!c->active) {
        /* not asked for (a slip of an older producer): pass it on unscored */
        snprintf(c->why, sizeof(c->why), "spamCheck not active");
        worker_job_forward_input(job);
        log_outcome(job, c, "skipped", t0);
        goto out;
    }
    c->sent = spamcheck_job_scan_len(job->env.raw, job->env.raw_len, spamcheck_conf.max_size);
    score(job, c);
    if (events(job, c)) {
        log_outcome(job, c, "dropped", t0);
        goto out;
    }
    worker_job_forward_input(job);
    log_outcome(job, c, c->ok ? "scored" : "unavailable", t0);
out:
    xfree(c);
    return code;
}
