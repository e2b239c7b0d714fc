/*
 * bounce_reason - bounce_classify(): reason, hard/soft and status of one
 * record, decided from the tables of bounce_reason.h. The code here is a
 * generic matcher; what texts and codes mean lives in the tables.
 *
 * Order of the decision (the first that answers wins):
 *   1. not a bounce: a feedback type (ARF) -> feedback; an auto-reply
 *      format -> vacation; action "delivered" or a 2.x.x status ->
 *      delivered;
 *   2. the provider's own rules, when the remote host or the recipient's
 *      domain names a known provider (bounce_reason_rhost.c);
 *   3. first pass, unless the diagnostic is the local mailer's (x-unix;):
 *      bounce_reason_probes1[] in order (status code, reply
 *      code, SMTP command and phrases together);
 *   4. the status code's reason, unless it is vague, else the second
 *      pass: bounce_reason_probes2[] (phrases alone), then the status
 *      class (x.6 contenterror, x.7 securityerror), a 4xx/5xx syntax
 *      reply (syntaxerror), action delayed (expired), HELO/EHLO
 *      (blocked);
 *   5. onhold when there was a text nobody understood, else undefined.
 *
 * The phrases are compiled once into one Aho-Corasick automaton over all
 * pieces of all patterns (bounce_classify_init); a call lowercases the
 * diagnostic once and runs the automaton once, then reads bit sets.
 */
#include "global/bounce/bounce.h"
#include "global/bounce/bounce_reason.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAXTEXT 1024   /* as struct bounce_rec's diagnostic */
#define AC_OUT 0x8000u /* delta flag: the state ends a piece; states stay below it */

/* a compiled pattern: pieces (ids into the automaton) in order */
struct cpat {
    int first; /* index into piece_of[] */
    int n;
};

static struct {
    /*
     * automaton: delta[state * nclass + class], term = piece ending here
     * or -1; states numbered breadth first so the shallow, hot ones share
     * cache lines; a delta entry has OUT set when its state ends a piece
     * (itself or down its failure chain), so the scan loads once per byte
     */
    uint16_t *delta;
    int16_t *term;
    uint16_t *dict; /* next state on the failure chain with a term */
    int nstates, nclass;
    uint8_t cls[256];
    /* pieces */
    char **pieces;
    int npieces;
    /* patterns of the phrase rows and of the rhost rules */
    int *piece_of;
    struct cpat *phrase_pat, *rule_pat, *hint_pat;
    /* the phrase rows of both tables */
    const struct br_phrase **phr;
    int nphr;
    /* phrase rows by their first piece: by_first[first_at[p] .. first_at[p + 1]) */
    int *first_at, *by_first;
} ac;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* per call */
struct ctx {
    char text[MAXTEXT];
    size_t len;
    uint8_t *seen;         /* piece bit set */
    int16_t hits[MAXTEXT]; /* pieces seen, each once */
    int nhits;
    char code[12]; /* the reply code as text */
    uint64_t match;
    uint64_t veto;
    uint64_t sure;   /* reasons with a BR_PH_SURE phrase matched */
    const char *cmd; /* rec->command, else the one the text names */
    int temp;        /* the text says the sender will retry */
    const char *status;
    int sname;
};

/* piece_add - id of the piece s[0..n), added when new */
static int piece_add(const char *s, size_t n, int *cap)
{
    for (int i = 0; i < ac.npieces; i++)
        if (strlen(ac.pieces[i]) == n && memcmp(ac.pieces[i], s, n) == 0)
            return i;
    if (ac.npieces == *cap) {
        *cap = *cap ? *cap * 2 : 512;
        ac.pieces = xrealloc(ac.pieces, (size_t)*cap * sizeof(*ac.pieces));
    }
    ac.pieces[ac.npieces] = xstrndup(s, n);
    return ac.npieces++;
}

/* compile - split pattern at '*' into pieces; empty pattern: no pieces */
static struct cpat compile(const char *pat, int *npo, int *cap)
{
    struct cpat c = {*npo, 0};
    const char *p = pat;

    while (*p) {
        const char *e = strchr(p, '*');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (n > 0) {
            ac.piece_of[(*npo)++] = piece_add(p, n, cap);
            c.n++;
        }
        p += n;
        if (*p == '*')
            p++;
    }
    return c;
}

/* compact - renumber the states in queue (breadth first) order into ac */
static void compact(const int32_t *delta, const int32_t *term, const int32_t *dict,
                    const int32_t *queue, int n, int nc)
{
    int32_t *id = xcalloc((size_t)n, sizeof(int32_t));

    if (n > (int)AC_OUT || ac.npieces > BR_MAXPIECES)
        msg_panic("bounce_reason: %d states, %d pieces: the tables outgrew the automaton", n,
                  ac.npieces);
    for (int i = 0; i < n - 1; i++)
        id[queue[i]] = i + 1;
    ac.delta = xcalloc((size_t)n * (size_t)nc, sizeof(uint16_t));
    ac.term = xcalloc((size_t)n, sizeof(int16_t));
    ac.dict = xcalloc((size_t)n, sizeof(uint16_t));
    for (int s = 0; s < n; s++) {
        for (int c = 0; c < nc; c++) {
            int32_t t = delta[(size_t)s * nc + c];
            int out = term[t] >= 0 || dict[t] != 0;

            ac.delta[(size_t)id[s] * nc + c] = (uint16_t)(id[t] | (out ? AC_OUT : 0));
        }
        ac.term[id[s]] = (int16_t)term[s];
        ac.dict[id[s]] = (uint16_t)id[dict[s]];
    }
    ac.nstates = n;
    xfree(id);
}

/* build_automaton - trie of the pieces, then failure links breadth first */
static void build_automaton(void)
{
    size_t total = 1;
    int nc = 1, n = 1, head = 0, tail = 0;

    memset(ac.cls, 0, sizeof(ac.cls));
    for (int i = 0; i < ac.npieces; i++) {
        total += strlen(ac.pieces[i]);
        for (const unsigned char *p = (const unsigned char *)ac.pieces[i]; *p; p++)
            if (ac.cls[*p] == 0)
                ac.cls[*p] = (uint8_t)nc++;
    }
    ac.nclass = nc;
    int32_t *delta = xcalloc(total * (size_t)nc, sizeof(int32_t));
    int32_t *term = xcalloc(total, sizeof(int32_t));
    int32_t *dict = xcalloc(total, sizeof(int32_t));
    int32_t *fail = xcalloc(total, sizeof(int32_t));
    int32_t *queue = xcalloc(total, sizeof(int32_t));

    for (size_t s = 0; s < total; s++)
        term[s] = -1;
    for (int i = 0; i < ac.npieces; i++) {
        int s = 0;

        for (const unsigned char *p = (const unsigned char *)ac.pieces[i]; *p; p++) {
            int32_t *t = &delta[(size_t)s * nc + ac.cls[*p]];

            if (*t == 0)
                *t = n++;
            s = *t;
        }
        term[s] = i;
    }
    for (int c = 0; c < nc; c++)
        if (delta[c])
            queue[tail++] = delta[c];
    while (head < tail) {
        int s = queue[head++];

        dict[s] = term[fail[s]] >= 0 ? fail[s] : dict[fail[s]];
        for (int c = 0; c < nc; c++) {
            int32_t *t = &delta[(size_t)s * nc + c];
            int32_t f = delta[(size_t)fail[s] * nc + c];

            if (*t) {
                fail[*t] = f;
                queue[tail++] = *t;
            } else {
                *t = f;
            }
        }
    }
    compact(delta, term, dict, queue, n, nc);
    xfree(delta);
    xfree(term);
    xfree(dict);
    xfree(fail);
    xfree(queue);
}

static void init_tables(void)
{
    int npo = 0, cap = 0, maxpieces = 0;

    ac.nphr = bounce_reason_nphrases + bounce_reason_nphrases_policy;
    ac.phr = xcalloc((size_t)ac.nphr, sizeof(*ac.phr));
    for (int i = 0; i < ac.nphr; i++)
        ac.phr[i] = i < bounce_reason_nphrases
                        ? &bounce_reason_phrases[i]
                        : &bounce_reason_phrases_policy[i - bounce_reason_nphrases];
    for (int i = 0; i < ac.nphr; i++)
        maxpieces += (int)strlen(ac.phr[i]->pattern) + 1;
    for (int i = 0; i < bounce_reason_nrhost_rules; i++)
        maxpieces += (int)strlen(bounce_reason_rhost_rules[i].pattern) + 1;
    for (int i = 0; i < bounce_reason_nhints; i++)
        maxpieces += (int)strlen(bounce_reason_hints[i].pattern) + 1;
    ac.piece_of = xcalloc((size_t)maxpieces, sizeof(int));
    ac.phrase_pat = xcalloc((size_t)ac.nphr, sizeof(struct cpat));
    ac.rule_pat = xcalloc((size_t)bounce_reason_nrhost_rules, sizeof(struct cpat));
    ac.hint_pat = xcalloc((size_t)bounce_reason_nhints, sizeof(struct cpat));
    for (int i = 0; i < ac.nphr; i++)
        ac.phrase_pat[i] = compile(ac.phr[i]->pattern, &npo, &cap);
    for (int i = 0; i < bounce_reason_nrhost_rules; i++)
        ac.rule_pat[i] = compile(bounce_reason_rhost_rules[i].pattern, &npo, &cap);
    for (int i = 0; i < bounce_reason_nhints; i++)
        ac.hint_pat[i] = compile(bounce_reason_hints[i].pattern, &npo, &cap);
    build_automaton();
    ac.first_at = xcalloc((size_t)ac.npieces + 1, sizeof(int));
    ac.by_first = xcalloc((size_t)ac.nphr, sizeof(int));
    for (int i = 0; i < ac.nphr; i++)
        if (ac.phrase_pat[i].n)
            ac.first_at[ac.piece_of[ac.phrase_pat[i].first] + 1]++;
    for (int p = 0; p < ac.npieces; p++)
        ac.first_at[p + 1] += ac.first_at[p];
    int *fill = xcalloc((size_t)ac.npieces, sizeof(int));

    for (int i = 0; i < ac.nphr; i++) {
        if (ac.phrase_pat[i].n == 0)
            continue;
        int p = ac.piece_of[ac.phrase_pat[i].first];

        ac.by_first[ac.first_at[p] + fill[p]++] = i;
    }
    xfree(fill);
}

void bounce_classify_init(void)
{
    pthread_once(&init_once, init_tables);
}

/* scan - lowercase the text into c and mark every piece it contains */
static void scan(struct ctx *c, const char *text)
{
    size_t n = 0;
    int s = 0;

    for (const unsigned char *p = (const unsigned char *)text; *p && n < sizeof(c->text) - 1; p++) {
        unsigned char ch = *p;

        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch - 'A' + 'a');
        else if (ch == '\t' || ch == '\r' || ch == '\n')
            ch = ' ';
        c->text[n++] = (char)ch;
        unsigned v = ac.delta[(size_t)s * ac.nclass + ac.cls[ch]];

        s = (int)(v & ~AC_OUT);
        if (!(v & AC_OUT))
            continue;
        for (int t = ac.term[s] >= 0 ? s : ac.dict[s]; t > 0; t = ac.dict[t]) {
            int id = ac.term[t];

            if (!(c->seen[id >> 3] & (1u << (id & 7))) && c->nhits < MAXTEXT)
                c->hits[c->nhits++] = (int16_t)id;
            c->seen[id >> 3] |= (uint8_t)(1u << (id & 7));
        }
    }
    c->text[n] = '\0';
    c->len = n;
}

/* pat_match - all pieces seen, and in order when there are several */
static int pat_match(const struct ctx *c, const struct cpat *p)
{
    if (p->n == 0)
        return 1;
    for (int i = 0; i < p->n; i++) {
        int id = ac.piece_of[p->first + i];

        if (!(c->seen[id >> 3] & (1u << (id & 7))))
            return 0;
    }
    if (p->n == 1)
        return 1;
    const char *at = c->text;

    for (int i = 0; i < p->n; i++) {
        const char *piece = ac.pieces[ac.piece_of[p->first + i]];

        at = strstr(at, piece);
        if (at == NULL)
            return 0;
        at += strlen(piece);
    }
    return 1;
}

/* text_any - does the text match a phrase of a reason in set? */
static int text_any(const struct ctx *c, uint64_t set)
{
    return (c->match & ~c->veto & set) != 0;
}

static int status_reason(const char *code)
{
    for (int i = 0; i < bounce_reason_nstatuses; i++)
        if (strcmp(bounce_reason_statuses[i].code, code) == 0)
            return bounce_reason_statuses[i].reason;
    return BR_NONE;
}

static int in_list(const char *list, const char *word)
{
    size_t n = strlen(word);

    if (list == NULL || n == 0)
        return 0;
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return 1;
    return 0;
}

/* before_data - the command is one sent before DATA (the message unseen) */
static int before_data(const char *cmd)
{
    return in_list("CONN HELO EHLO STARTTLS AUTH MAIL RCPT", cmd);
}

static int vague(int r)
{
    return r == BR_NONE || r == BR_ONHOLD || r == BR_UNDEFINED || r == BR_SYSTEMERROR ||
           r == BR_SECURITYERROR;
}

/* probe_hit - does the record give evidence for p's reason? */
static int probe_hit(const struct br_probe *p, const struct bounce_rec *rec, const struct ctx *c)
{
    const char *cmd = c->cmd;

    if ((p->flags & BR_P_NEED_STATUS) && c->status[0] == '\0')
        return 0;
    if (in_list(p->notafter, cmd))
        return 0;
    if ((p->flags & BR_P_UNLESS_ALL) && text_any(c, p->unless))
        return 0;
    if ((p->flags & BR_P_STATUS) && c->sname == p->reason) {
        if (p->flags & BR_P_STATUS_TEXT)
            return text_any(c, p->text);
        return !text_any(c, p->unless);
    }
    if (rec->replycode > 0 && in_list(p->codes, c->code))
        return 1;
    if (p->command && strcmp(p->command, cmd) == 0)
        return 1;
    if ((p->flags & BR_P_TEXT_RCPT) && strcmp(cmd, "RCPT") != 0)
        return (c->sure & p->text) != 0;
    if ((p->flags & BR_P_TEXT_AFTER_RCPT) && before_data(cmd))
        return 0;
    if ((p->flags & BR_P_TEXT_AFTER_GREETING) && in_list("CONN HELO EHLO", cmd))
        return 0;
    if ((p->flags & BR_P_TEXT_SENDER) && strcmp(cmd, "MAIL") != 0 &&
        !(strcmp(cmd, "DATA") == 0 && c->sname != BR_USERUNKNOWN) && !vague(c->sname))
        return 0;
    return text_any(c, p->text);
}

/* host_is - name equals suffix, or ends with it after a dot ("" never) */
static int host_is(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);

    if (n == 0 || m == 0 || m > n || strcasecmp(name + n - m, suffix) != 0)
        return 0;
    return n == m || suffix[0] == '.' || name[n - m - 1] == '.';
}

/*
 * provider_of - the provider named by the remote host, the recipient's
 * domain or the matched format ("mta:NAME" rows), NULL when none
 */
static const char *provider_of(const struct bounce_rec *rec, const char *mta)
{
    const char *at = strrchr(rec->recipient, '@');
    const char *domain = at ? at + 1 : "";
    char host[256];
    size_t n = strcspn(rec->rhost, " \t([;:");

    /* "mx.example.jp. (192.0.2.1)", "mx.example.jp [192.0.2.1]": the name */
    snprintf(host, sizeof(host), "%.*s", (int)n, rec->rhost);
    while (n > 0 && host[n - 1] == '.')
        host[--n] = '\0';

    for (int i = 0; i < bounce_reason_nhosts; i++) {
        const char *sfx = bounce_reason_hosts[i].suffix;

        if (strncmp(sfx, "mta:", 4) == 0) {
            if (strcmp(sfx + 4, mta) == 0)
                return bounce_reason_hosts[i].provider;
        } else if (sfx[0] == '@') {
            if (strcasecmp(sfx + 1, domain) == 0)
                return bounce_reason_hosts[i].provider;
        } else if (host_is(host, sfx)) {
            return bounce_reason_hosts[i].provider;
        }
    }
    return NULL;
}

/* by_provider - the reason of the provider's first matching rule, BR_NONE */
static int by_provider(const struct bounce_rec *rec, const char *mta, const struct ctx *c)
{
    const char *prov = provider_of(rec, mta);

    if (prov == NULL)
        return BR_NONE;
    for (int i = 0; i < bounce_reason_nrhost_rules; i++) {
        const struct br_rhost_rule *r = &bounce_reason_rhost_rules[i];

        if (strcmp(r->provider, prov) != 0)
            continue;
        if (strcmp(r->status, "-") == 0 ? c->status[0] != '\0'
                                        : strncmp(c->status, r->status, strlen(r->status)) != 0)
            continue;
        if (r->replycode && r->replycode != rec->replycode)
            continue;
        if (pat_match(c, &ac.rule_pat[i]))
            return r->reason;
    }
    return BR_NONE;
}

/* second_pass - phrases alone, then what the status and command say */
static int second_pass(const struct bounce_rec *rec, const struct ctx *c, int smtp)
{
    int s = c->sname;

    if (smtp && !(vague(s) || s == BR_USERUNKNOWN || s == BR_HOSTUNKNOWN || s == BR_NETWORKERROR ||
                  s == BR_EXPIRED))
        return s;
    for (int i = 0; i < bounce_reason_nprobes2; i++)
        if (text_any(c, BR_BIT(bounce_reason_probes2[i])))
            return bounce_reason_probes2[i];
    if (s != BR_NONE)
        return s;
    if (c->status[0] && c->status[1] == '.' && (c->status[2] == '6' || c->status[2] == '7') &&
        c->status[3] == '.')
        return c->status[2] == '6' ? BR_CONTENTERROR : BR_SECURITYERROR;
    if (strncasecmp(rec->diagtype, "x-unix", 6) == 0)
        return BR_MAILERERROR;
    if ((rec->replycode > 400 && rec->replycode < 408) ||
        (rec->replycode > 500 && rec->replycode < 508))
        return BR_SYNTAXERROR;
    if (strcmp(rec->action, "delayed") == 0)
        return BR_EXPIRED;
    if (in_list("HELO EHLO", c->cmd))
        return BR_BLOCKED;
    return BR_NONE;
}

static int is_autoreply(const char *mta)
{
    return in_list("rfc3834 autoreply vacation", mta);
}

/* decide - the reason id for rec; c is scanned */
static int decide(const struct bounce_rec *rec, const char *mta, struct ctx *c)
{
    int r, smtp = strncasecmp(rec->diagtype, "x-unix", 6) != 0; /* not the local mailer */

    if (rec->feedbacktype[0] || in_list("arf jmrp feedback", mta))
        return BR_FEEDBACK;
    if (is_autoreply(mta))
        return BR_VACATION;
    if (strcmp(rec->action, "delivered") == 0 || (c->status[0] == '2' && c->status[1] == '.'))
        return BR_DELIVERED;
    if ((r = by_provider(rec, mta, c)) != BR_NONE)
        return r;
    for (int i = 0; smtp && i < bounce_reason_nprobes1; i++)
        if (probe_hit(&bounce_reason_probes1[i], rec, c))
            return bounce_reason_probes1[i].reason;
    if ((r = second_pass(rec, c, smtp)) != BR_NONE)
        return r;
    if (strcmp(rec->action, "delayed") == 0)
        return BR_EXPIRED;
    if (text_any(c, BR_BIT(BR_VACATION)))
        return BR_VACATION;
    for (const char *p = c->text; *p; p++)
        if ((unsigned char)*p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            return BR_ONHOLD; /* a text nobody understood */
    return BR_UNDEFINED;      /* no text, or only punctuation */
}

/* code_in_text - the first RFC 3463 code "d.d{1,3}.d{1,3}" of class 2/4/5 in text */
static int code_in_text(const char *text, char *out, size_t outsz)
{
    for (const char *p = text; *p; p++) {
        int a = 0, b = 0;
        const char *q = p + 2;

        if (!((*p == '2' || *p == '4' || *p == '5') && p[1] == '.'))
            continue;
        if (p > text && (p[-1] == '.' || (p[-1] >= '0' && p[-1] <= '9')))
            continue;
        while (q[a] >= '0' && q[a] <= '9')
            a++;
        if (a < 1 || a > 3 || q[a] != '.')
            continue;
        q += a + 1;
        while (q[b] >= '0' && q[b] <= '9')
            b++;
        if (b < 1 || b > 3 || q[b] == '.' || (q[b] >= '0' && q[b] <= '9'))
            continue;
        if ((size_t)(q + b - p) >= outsz)
            continue;
        snprintf(out, outsz, "%.*s", (int)(q + b - p), p);
        return 1;
    }
    return 0;
}

/* temporary - a 4.x.x status, a 4xx reply, delayed, or the text says it will retry */
static int temporary(const struct bounce_rec *rec, const struct ctx *c)
{
    if (rec->status[0])
        return rec->status[0] == '4';
    if (rec->replycode)
        return rec->replycode >= 400 && rec->replycode < 500;
    return strcmp(rec->action, "delayed") == 0 || c->temp;
}

static void pseudo_status(struct bounce_rec *rec, const struct ctx *c, int reason)
{
    const char *tail = ".0.0";

    for (int i = 0; i < bounce_reason_npseudo; i++)
        if (bounce_reason_pseudo[i].reason == reason)
            tail = bounce_reason_pseudo[i].code;
    snprintf(rec->status, sizeof(rec->status), "%c%s", temporary(rec, c) ? '4' : '5', tail);
}

void bounce_classify(struct bounce_rec *rec, const char *mta)
{
    uint8_t seen[(BR_MAXPIECES + 7) / 8];
    struct ctx c;
    char found[16] = "";
    int r;

    bounce_classify_init();
    memset(seen, 0, sizeof(seen));
    c.seen = seen;
    c.match = c.veto = c.sure = 0;
    c.nhits = 0;
    if (mta == NULL)
        mta = "";
    scan(&c, rec->diagnostic);
    for (int h = 0; h < c.nhits; h++) {
        for (int k = ac.first_at[c.hits[h]]; k < ac.first_at[c.hits[h] + 1]; k++) {
            const struct br_phrase *p = ac.phr[ac.by_first[k]];

            if (pat_match(&c, &ac.phrase_pat[ac.by_first[k]]))
                *(p->flags & BR_PH_NOT ? &c.veto : &c.match) |= BR_BIT(p->reason);
            if (p->flags & BR_PH_SURE && pat_match(&c, &ac.phrase_pat[ac.by_first[k]]))
                c.sure |= BR_BIT(p->reason);
        }
    }
    snprintf(c.code, sizeof(c.code), "%d", rec->replycode);
    c.cmd = rec->command;
    c.temp = 0;
    for (int i = 0; i < bounce_reason_nhints; i++) {
        const char *what = bounce_reason_hints[i].what;

        if (strcmp(what, "temporary") == 0 ? c.temp : c.cmd[0] != '\0')
            continue;
        if (!pat_match(&c, &ac.hint_pat[i]))
            continue;
        if (strcmp(what, "temporary") == 0)
            c.temp = 1;
        else
            c.cmd = what;
    }
    c.status = rec->status;
    if (rec->status[0] == '\0' && code_in_text(c.text, found, sizeof(found)))
        c.status = found;
    c.sname = status_reason(c.status);
    r = decide(rec, mta, &c);
    snprintf(rec->reason, sizeof(rec->reason), "%s", bounce_reason_names[r]);
    if (r == BR_DELIVERED || r == BR_FEEDBACK || r == BR_VACATION) {
        rec->hard = -1;
        if (r == BR_DELIVERED && rec->status[0] == '\0' && found[0])
            snprintf(rec->status, sizeof(rec->status), "%s", found);
        return;
    }
    if (rec->status[0] == '\0') {
        if (found[0])
            snprintf(rec->status, sizeof(rec->status), "%s", found);
        else
            pseudo_status(rec, &c, r);
    }
    rec->hard = r == BR_USERUNKNOWN || r == BR_HOSTUNKNOWN || r == BR_HASMOVED ||
                (r == BR_NOTACCEPT && !temporary(rec, &c));
}
