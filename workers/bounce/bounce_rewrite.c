/*
 * bounce_rewrite - inbound address rewriting of a reply before it is
 * forwarded: the customer's inbox shows the original correspondent.
 *
 * From:, Reply-To: and every other field stay as they are; in To: and
 * Cc: each mailbox whose address is one of ours (the VERP or rewrite
 * address the reply came to) is replaced by the address the original
 * message was sent from (message.mail_from as submitted, or the rewrite
 * mapping's from_addr), inside groups too. Only a field with a
 * replacement is written again (GMime's encoder, folded, CRLF); the
 * other octets of the header and the whole body are copied unchanged.
 * A trace field "X-Txmail-Forwarded-For: <recipient id or inbound id>"
 * goes first. Header lines are taken as the message has them (CRLF or
 * LF); the header ends at the first empty line.
 */
#include "workers/bounce/bounce.h"
#include "util/buf.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <gmime/gmime.h>
#include <string.h>
#include <strings.h>

/* ours - addr is in the list (case-insensitive) */
static int ours_has(const char *const *ours, const char *addr)
{
    for (int i = 0; addr && ours && ours[i]; i++)
        if (strcasecmp(ours[i], addr) == 0)
            return 1;
    return 0;
}

/* replace - put repl in place of our mailboxes of list; the number replaced */
static int replace(InternetAddressList *list, const char *const *ours, InternetAddress *repl)
{
    int n = 0;

    for (int i = 0; i < internet_address_list_length(list); i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            n +=
                replace(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), ours, repl);
        } else if (INTERNET_ADDRESS_IS_MAILBOX(ia) &&
                   ours_has(ours,
                            internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))) {
            internet_address_list_set_address(list, i, repl);
            n++;
        }
    }
    return n;
}

/* field_end - offset after the field starting at off (its continuation lines included) */
static size_t field_end(const char *h, size_t len, size_t off)
{
    while (off < len) {
        const char *nl = memchr(h + off, '\n', len - off);
        off = nl ? (size_t)(nl - h) + 1 : len;
        if (off >= len || (h[off] != ' ' && h[off] != '\t'))
            break;
    }
    return off;
}

/* is_field - the field at f[0..n) is named name */
static int is_field(const char *f, size_t n, const char *name)
{
    size_t l = strlen(name);

    return n > l && f[l] == ':' && strncasecmp(f, name, l) == 0;
}

/* rewrite_field - field f[0..n) (To or Cc) rewritten into out; 0 when nothing is ours */
static int rewrite_field(struct buf *out, const char *f, size_t n, const char *name,
                         const char *const *ours, InternetAddress *repl)
{
    size_t l = strlen(name);
    char *value = xstrndup(f + l + 1, n - l - 1);
    InternetAddressList *list = internet_address_list_parse(NULL, value);
    int changed = 0;

    xfree(value);
    if (list == NULL)
        return 0;
    if (replace(list, ours, repl) > 0) {
        GMimeFormatOptions *fo = g_mime_format_options_new();
        GString *s = g_string_new(NULL);
        g_string_append_printf(s, "%s: ", name);
        g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
        internet_address_list_encode(list, fo, s);
        if (s->len < 2 || s->str[s->len - 1] != '\n')
            g_string_append(s, "\r\n");
        buf_append(out, s->str, s->len);
        g_string_free(s, TRUE);
        g_mime_format_options_free(fo);
        changed = 1;
    }
    g_object_unref(list);
    return changed;
}

/* replacement - the first mailbox of orig, NULL when there is none. Ownership: new (unref). */
static InternetAddress *replacement(const char *orig)
{
    InternetAddressList *l;
    InternetAddress *ia = NULL;

    if (orig == NULL || *orig == 0 || (l = internet_address_list_parse(NULL, orig)) == NULL)
        return NULL;
    if (internet_address_list_length(l) > 0) {
        ia = internet_address_list_get_address(l, 0);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            g_object_ref(ia);
        else
            ia = NULL;
    }
    g_object_unref(l);
    return ia;
}

int bounce_rewrite_has_field(const char *raw, size_t len, const char *name)
{
    for (size_t off = 0; off < len && raw[off] != '\r' && raw[off] != '\n';) {
        size_t end = field_end(raw, len, off);
        if (is_field(raw + off, end - off, name))
            return 1;
        off = end;
    }
    return 0;
}

char *bounce_rewrite_reply(const char *raw, size_t len, const char *const *ours, const char *orig,
                           const char *trace, size_t *outlen)
{
    struct buf out;
    InternetAddress *repl = replacement(orig);
    size_t off = 0;

    buf_init(&out, len + 64 * 1024);
    buf_printf(&out, "X-Txmail-Forwarded-For: %s\r\n", trace);
    while (off < len && raw[off] != '\r' && raw[off] != '\n') {
        size_t end = field_end(raw, len, off);
        const char *f = raw + off;
        size_t n = end - off;
        int done = 0;
        if (repl && is_field(f, n, "To"))
            done = rewrite_field(&out, f, n, "To", ours, repl);
        else if (repl && is_field(f, n, "Cc"))
            done = rewrite_field(&out, f, n, "Cc", ours, repl);
        if (!done)
            buf_append(&out, f, n);
        off = end;
    }
    buf_append(&out, raw + off, len - off);
    if (repl)
        g_object_unref(repl);
    if (buf_error(&out))
        msg_panic("bounce_rewrite_reply: rewritten header over its maximum");
    return buf_steal(&out, outlen);
}
