/*
 * bounce_dsn - the per-recipient fields of an RFC 3464 delivery status
 * notification (message/delivery-status, or the same fields written as
 * text): one record per recipient group.
 *
 * A group starts at a Final-Recipient or Original-Recipient field, when
 * the group open has that field already or an empty line closed it.
 * Action, Status, Remote-MTA and Diagnostic-Code (X-Diagnostic-Code when
 * no Diagnostic-Code) belong to the open group; "type;" prefixes are
 * removed (the Diagnostic-Code's goes to diagtype). The recipient is
 * Final-Recipient when it is a mailbox, else Original-Recipient, else
 * X-Actual-Recipient. A group with no diagnostic found anywhere else
 * takes its own Status field when that carries a comment
 * (bounce_dsn_status_text), never another group's text.
 */
#include "bounce_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

struct group {
    struct bounce_rec *rec;
    int status_text; /* the Status field's value is the diagnostic (see bounce_dsn_status_text) */
    int has_final, has_orig, has_diag;
    char orig[256], actual[256];
};

/* untype - value without its "type;" prefix (rfc822; dns; smtp; x-unix;) */
static const char *untype(const char *v)
{
    const char *semi = strchr(v, ';');

    if (semi == NULL)
        return v;
    for (const char *p = v; p < semi; p++)
        if (isspace((unsigned char)*p))
            return v;
    semi++;
    while (*semi == ' ')
        semi++;
    return semi;
}

static void close_group(struct group *g)
{
    int status_text = g->status_text;

    if (g->rec && g->rec->recipient[0] == 0)
        bounce_scan_set(g->rec->recipient, sizeof(g->rec->recipient),
                        g->orig[0] ? g->orig : g->actual);
    memset(g, 0, sizeof(*g));
    g->status_text = status_text;
}

static void set_status(struct bounce_rec *rec, const char *v)
{
    size_t k = 0;

    while (v[k] && (isdigit((unsigned char)v[k]) || v[k] == '.'))
        k++;
    if (k >= 5 && k < sizeof(rec->status) && strchr("245", v[0]) && v[1] == '.') {
        memcpy(rec->status, v, k);
        rec->status[k] = 0;
    }
}

/* field - one unfolded field name: value of the text */
static void field(struct bounce_report *r, struct group *g, const char *name, const char *value)
{
    int final = strcasecmp(name, "Final-Recipient") == 0;
    int orig = strcasecmp(name, "Original-Recipient") == 0;
    char addr[256];

    if (final || orig) {
        if (g->rec == NULL || (final && g->has_final) || (orig && g->has_orig)) {
            close_group(g);
            if ((g->rec = bounce_rec_add(r)) == NULL)
                return;
        }
        if (!bounce_scan_addr(value, strlen(value), addr, sizeof(addr), NULL))
            addr[0] = 0;
        if (final) {
            g->has_final = 1;
            bounce_scan_set(g->rec->recipient, sizeof(g->rec->recipient), addr);
        } else {
            g->has_orig = 1;
            bounce_scan_set(g->orig, sizeof(g->orig), addr);
        }
        return;
    }
    if (g->rec == NULL)
        return;
    struct bounce_rec *rec = g->rec;
    if (strcasecmp(name, "X-Actual-Recipient") == 0) {
        if (bounce_scan_addr(value, strlen(value), addr, sizeof(addr), NULL))
            bounce_scan_set(g->actual, sizeof(g->actual), addr);
    } else if (strcasecmp(name, "Action") == 0) {
        bounce_scan_copy(rec->action, sizeof(rec->action), value, strlen(value));
        for (char *p = rec->action; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        char *sp = strpbrk(rec->action, " (");
        if (sp)
            *sp = 0;
    } else if (strcasecmp(name, "Status") == 0) {
        set_status(rec, value);
        if (g->status_text && strchr(value, '(')) /* "4.0.0 (host name lookup failure)" */
            bounce_scan_copy(rec->diagnostic, sizeof(rec->diagnostic), value, strlen(value));
    } else if (g->status_text) {
        return;
    } else if (strcasecmp(name, "Remote-MTA") == 0) {
        const char *host = untype(value); /* the name, without "(address)" or "[address]" */
        bounce_scan_copy(rec->rhost, sizeof(rec->rhost), host, strcspn(host, " [("));
    } else if (strcasecmp(name, "Diagnostic-Code") == 0 ||
               (strcasecmp(name, "X-Diagnostic-Code") == 0 && !g->has_diag)) {
        const char *text = untype(value);
        g->has_diag = strcasecmp(name, "Diagnostic-Code") == 0;
        bounce_scan_copy(rec->diagnostic, sizeof(rec->diagnostic), text, strlen(text));
        rec->diagtype[0] = 0;
        if (text != value) /* the type before ';' */
            bounce_scan_copy(rec->diagtype, sizeof(rec->diagtype), value, strcspn(value, ";"));
    }
}

/* dsn_read - records from the fields in text; the number added */
static int dsn_read(struct bounce_report *r, const char *text, int status_text)
{
    const char *p = text, *end = text + strlen(text);
    struct group g;
    char name[64], value[1024];
    int before = r->nrecs;
    size_t len;

    memset(&g, 0, sizeof(g));
    g.status_text = status_text;
    while (p < end) {
        const char *next = bounce_scan_line(p, end, &len);
        size_t k = 0;
        while (k < len && k < sizeof(name) - 1 && (isalnum((unsigned char)p[k]) || p[k] == '-'))
            k++;
        if (len == 0)
            close_group(&g); /* an empty line ends the group */
        if (len == 0 || k == 0) {
            p = next;
            continue;
        }
        size_t c = k;
        while (c < len && p[c] == ' ')
            c++;
        if (k == 0 || c >= len || p[c] != ':') {
            p = next;
            continue;
        }
        memcpy(name, p, k);
        name[k] = 0;
        bounce_scan_copy(value, sizeof(value), p + c + 1, len - c - 1);
        while (next < end && (*next == ' ' || *next == '\t')) {
            const char *n2 = bounce_scan_line(next, end, &len);
            bounce_scan_append(value, sizeof(value), next, len);
            next = n2;
        }
        field(r, &g, name, value);
        p = next;
    }
    close_group(&g);
    return r->nrecs - before;
}

/* bounce_dsn_read - records from the fields in text; the number added */
int bounce_dsn_read(struct bounce_report *r, const char *text)
{
    return dsn_read(r, text, 0);
}

/*
 * bounce_dsn_status_text - the records read from text that are still
 * without a diagnostic take their own group's Status field when it carries
 * a comment ("4.0.0 (example.net: host name lookup failure)")
 */
void bounce_dsn_status_text(struct bounce_report *r, const char *text)
{
    struct bounce_report t;
    int empty = 0;

    for (int i = 0; i < r->nrecs; i++)
        empty |= r->recs[i].diagnostic[0] == 0;
    if (!empty)
        return;
    memset(&t, 0, sizeof(t));
    dsn_read(&t, text, 1);
    for (int i = 0; i < r->nrecs && i < t.nrecs; i++)
        if (r->recs[i].diagnostic[0] == 0 && strcmp(r->recs[i].recipient, t.recs[i].recipient) == 0)
            memcpy(r->recs[i].diagnostic, t.recs[i].diagnostic, sizeof(r->recs[i].diagnostic));
    bounce_report_free(&t);
}
