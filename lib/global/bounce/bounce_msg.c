/*
 * bounce_msg - the message through GMime: open it, walk its MIME tree
 * into struct bounce_parts, read the returned message's headers, and the
 * tests on the message's own headers (auto-reply, mailer daemon).
 *
 * The walk does not descend into a returned message (message/rfc822): its
 * headers become the original's, its body is not the bounce's text.
 */
#include "bounce_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* auto-reply markers: header name, value prefix ("" = any value) */
static const struct {
    const char *name, *value;
} autoreply_fields[] = {
    {"Auto-Submitted", "auto-replied"},
    {"X-Autoreply", ""},
    {"X-Autorespond", ""},
    {"X-Autoresponder", ""},
    {"X-Auto-Reply", ""},
    {"Precedence", "auto_reply"},
    {"X-Vacation", ""},
    {"X-Mailer", "vacation"},
};

/* Subject: prefixes and phrases of auto-replies, case-insensitive substrings */
static const char *const autoreply_subjects[] = {
    "auto reply",
    "auto-reply",
    "autoreply",
    "automatic reply",
    "auto response",
    "autoresponse",
    "out of office",
    "out of the office",
    "away until",
    "vacation",
    "abwesenheit",
    "absence",
    "on leave",
    "auto:",
    "automatische antwort",
    "réponse automatique",
    "risposta automatica",
    "respuesta automática",
    "自動応答",
};

/* Subject: phrases of bounces (for messages without a known format) */
static const char *const bounce_subjects[] = {
    "undeliver",         "delivery status notification",
    "failure notice",    "returned mail",
    "mail delivery",     "delivery failure",
    "not delivered",     "delivery has failed",
    "nondeliverable",    "rejected",
    "mail system error",
};

/* From: local parts of mail systems */
static const char *const daemon_locals[] = {
    "mailer-daemon", "postmaster", "mail-daemon", "maildaemon",    "mailerdaemon",
    "mdaemon",       "bounce",     "bounces",     "mail.delivery", "mailer",
};

/* bounce_msg_put - append s[0..n) to b, cut to what still fits */
void bounce_msg_put(struct buf *b, const char *s, size_t n)
{
    size_t room = b->max > b->len + 1 ? b->max - b->len - 1 : 0;

    buf_append(b, s, n < room ? n : room);
}

GMimeMessage *bounce_msg_open(const char *raw, size_t len)
{
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(raw, len);
    GMimeParser *p = g_mime_parser_new_with_stream(st);
    GMimeParserOptions *o = g_mime_parser_options_new();
    GMimeMessage *m;

    g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
    g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    m = g_mime_parser_construct_message(p, o);
    g_mime_parser_options_free(o);
    g_object_unref(p);
    g_object_unref(st);
    return m;
}

GByteArray *bounce_msg_part_content(GMimePart *part)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(part);
    GMimeStream *ms;
    GByteArray *ba = NULL;

    if (dw == NULL)
        return NULL;
    ms = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(dw, ms);
    ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
    if (ba)
        g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(ms), FALSE);
    g_object_unref(ms);
    return ba;
}

/* part_bytes - the decoded content of a leaf part onto b */
static void part_bytes(GMimePart *part, struct buf *b)
{
    GByteArray *ba;

    if (g_mime_part_get_content(part) == NULL)
        return;
    if ((ba = bounce_msg_part_content(part)) != NULL) {
        bounce_msg_put(b, (const char *)ba->data, ba->len);
        g_byte_array_free(ba, TRUE);
    }
    bounce_msg_put(b, "\n\n", 2);
}

/* html_text - the text of an HTML part: tags dropped, block ends as newlines */
static void html_text(const char *h, struct buf *b)
{
    static const struct {
        const char *ent, *ch;
    } ents[] = {{"&lt;", "<"},   {"&gt;", ">"},    {"&amp;", "&"},
                {"&nbsp;", " "}, {"&quot;", "\""}, {"&#39;", "'"}};

    while (*h) {
        if (*h == '<') {
            const char *e = strchr(h, '>');
            if (e == NULL)
                break;
            if (strncasecmp(h, "<br", 3) == 0 || strncasecmp(h, "</p", 3) == 0 ||
                strncasecmp(h, "</div", 5) == 0 || strncasecmp(h, "</tr", 4) == 0 ||
                strncasecmp(h, "<p", 2) == 0 || strncasecmp(h, "</li", 4) == 0)
                bounce_msg_put(b, "\n", 1);
            h = e + 1;
            continue;
        }
        size_t i;
        for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
            if (strncasecmp(h, ents[i].ent, strlen(ents[i].ent)) == 0)
                break;
        if (i < sizeof(ents) / sizeof(ents[0])) {
            bounce_msg_put(b, ents[i].ch, 1);
            h += strlen(ents[i].ent);
        } else if (*h != '\r') {
            bounce_msg_put(b, h++, 1);
        } else {
            h++;
        }
    }
    bounce_msg_put(b, "\n", 1);
}

static void object_headers(GMimeObject *o, struct buf *b)
{
    char *h = g_mime_object_get_headers(o, NULL);

    if (h) {
        bounce_msg_put(b, h, strlen(h));
        g_free(h);
    }
}

static void leaf(GMimeObject *o, struct bounce_parts *p)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    const char *type = ct ? g_mime_content_type_get_media_type(ct) : "text";
    const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : "plain";

    type = type ? type : "text";
    sub = sub ? sub : "plain";
    if (strcasestr(sub, "delivery-status")) {
        part_bytes(GMIME_PART(o), &p->dsn);
    } else if (strcasecmp(sub, "feedback-report") == 0) {
        part_bytes(GMIME_PART(o), &p->feedback);
    } else if (strcasestr(sub, "headers") || strcasecmp(sub, "rfc822") == 0) {
        if (p->orighdr.len == 0)
            part_bytes(GMIME_PART(o), &p->orighdr);
    } else if (strcasecmp(type, "text") == 0 && GMIME_IS_TEXT_PART(o)) {
        char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(o));
        if (t == NULL)
            return;
        if (strcasecmp(sub, "html") == 0) {
            html_text(t, &p->html);
        } else {
            bounce_msg_put(&p->text, t, strlen(t));
            bounce_msg_put(&p->text, "\n", 1);
        }
        g_free(t);
    }
}

static void walk(GMimeObject *o, int depth, struct bounce_parts *p, int *count)
{
    if (o == NULL || depth > BOUNCE_MAX_DEPTH || ++*count > BOUNCE_MAX_PARTS)
        return;
    if (GMIME_IS_MULTIPART(o)) {
        int n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
        const char *prologue = g_mime_multipart_get_prologue(GMIME_MULTIPART(o));
        if (n == 0 && prologue) /* boundary never used: the text is all there is */
            bounce_msg_put(&p->text, prologue, strlen(prologue));
        for (int i = 0; i < n; i++)
            walk(g_mime_multipart_get_part(GMIME_MULTIPART(o), i), depth + 1, p, count);
    } else if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        GMimeObject *body = m ? g_mime_message_get_mime_part(m) : NULL;
        GMimeContentType *ct = body ? g_mime_object_get_content_type(body) : NULL;
        if (ct && g_mime_content_type_is_type(ct, "multipart", "report") && p->dsn.len == 0) {
            /* a report forwarded as an attachment: read it as this one */
            walk(body, depth + 1, p, count);
            return;
        }
        if (m && p->orighdr.len == 0)
            object_headers(GMIME_OBJECT(m), &p->orighdr);
    } else if (GMIME_IS_PART(o)) {
        leaf(o, p);
    }
}

/* bounce_msg_collect - the message's own fields into r, its pieces into p; -1 no header at all */
int bounce_msg_collect(GMimeMessage *m, struct bounce_report *r, struct bounce_parts *p)
{
    const char *v;
    int count = 0;

    object_headers(GMIME_OBJECT(m), &p->hdr);
    if (p->hdr.len == 0)
        return -1;
    if ((v = g_mime_object_get_header(GMIME_OBJECT(m), "From")) != NULL)
        bounce_scan_addr(v, strlen(v), r->from, sizeof(r->from), NULL);
    if ((v = g_mime_message_get_subject(m)) != NULL)
        bounce_scan_copy(r->subject, sizeof(r->subject), v, strlen(v));
    if ((v = g_mime_object_get_header(GMIME_OBJECT(m), "Message-ID")) != NULL)
        bounce_scan_copy(r->message_id, sizeof(r->message_id), v, strlen(v));
    walk(g_mime_message_get_mime_part(m), 0, p, &count);
    if (p->text.len == 0 && p->html.len > 0)
        bounce_msg_put(&p->text, p->html.data, p->html.len);
    return 0;
}

/* bounce_msg_original - the returned message's headers into r->orig_* */
void bounce_msg_original(struct bounce_report *r, const struct bounce_parts *p)
{
    const char *h = p->orighdr.data;
    char v[1024];

    while (*h == '\n' || *h == '\r')
        h++;
    if (bounce_scan_hdr(h, "Message-ID", v, sizeof(v)))
        bounce_scan_copy(r->orig_message_id, sizeof(r->orig_message_id), v, strlen(v));
    if (bounce_scan_hdr(h, "From", v, sizeof(v)))
        bounce_scan_addr(v, strlen(v), r->orig_from, sizeof(r->orig_from), NULL);
    if (bounce_scan_hdr(h, "To", v, sizeof(v)))
        bounce_scan_copy(r->orig_to, sizeof(r->orig_to), v, strlen(v));
    if (bounce_scan_hdr(h, "Return-Path", v, sizeof(v)))
        bounce_scan_addr(v, strlen(v), r->orig_return_path, sizeof(r->orig_return_path), NULL);
    if (bounce_scan_hdr(h, "Subject", v, sizeof(v))) {
        char *d = g_mime_utils_header_decode_text(NULL, v);
        bounce_scan_copy(r->orig_subject, sizeof(r->orig_subject), d ? d : v, strlen(d ? d : v));
        g_free(d);
    }
}

static int has_any(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bounce_scan_find(s, strlen(s), list[i]))
            return 1;
    return 0;
}

int bounce_msg_autoreply(const struct bounce_report *r, const struct bounce_parts *p)
{
    char v[256];

    for (size_t i = 0; i < sizeof(autoreply_fields) / sizeof(autoreply_fields[0]); i++)
        if (bounce_scan_hdr(p->hdr.data, autoreply_fields[i].name, v, sizeof(v)) &&
            strncasecmp(v, autoreply_fields[i].value, strlen(autoreply_fields[i].value)) == 0)
            return r->from[0] != 0;
    return r->from[0] != 0 && has_any(r->subject, autoreply_subjects,
                                      sizeof(autoreply_subjects) / sizeof(autoreply_subjects[0]));
}

int bounce_msg_daemon(const struct bounce_report *r, const struct bounce_parts *p)
{
    char from[320];
    size_t n = sizeof(daemon_locals) / sizeof(daemon_locals[0]);

    bounce_scan_hdr(p->hdr.data, "From", from, sizeof(from));
    for (char *c = from; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (size_t i = 0; i < n; i++) {
        const char *at = strstr(from, daemon_locals[i]);
        size_t k = strlen(daemon_locals[i]);
        if (at && (at == from || !isalnum((unsigned char)at[-1])) &&
            (at[k] == '@' || at[k] == '>' || at[k] == 0 || at[k] == ' '))
            return 1;
    }
    return from[0] == 0 || has_any(r->subject, bounce_subjects,
                                   sizeof(bounce_subjects) / sizeof(bounce_subjects[0]));
}

/* bounce_msg_dsntext - the text carries delivery-status fields at the start of a line */
int bounce_msg_dsntext(const char *text)
{
    for (const char *p = text; p && *p; p = strchr(p, '\n')) {
        while (*p == '\n' || *p == ' ')
            p++;
        if (strncasecmp(p, "Final-Recipient:", 16) == 0 ||
            strncasecmp(p, "Original-Recipient:", 19) == 0)
            return 1;
    }
    return 0;
}
