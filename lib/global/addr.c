/* addr - address parsing (contract §4.8); see addr.h. */
#include "global/addr.h"
#include "util/codec.h"

#include <ctype.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *addr_trim(const char *in, size_t len, size_t *outlen)
{
    while (len > 0 && is_ws((unsigned char)*in))
        in++, len--;
    while (len > 0 && is_ws((unsigned char)in[len - 1]))
        len--;
    *outlen = len;
    return in;
}

/* atext of RFC 5322 plus UTF-8 (RFC 6532) */
static int atext(unsigned char c)
{
    return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80;
}

static int parse_local(const char *s, size_t len, struct addr *a)
{
    if (len == 0 || len > ADDR_LOCAL_MAX)
        return -1;
    if (!codec_utf8_valid(s, len))
        return -1;
    if (s[0] == '"') {
        if (len < 2 || s[len - 1] != '"')
            return -1;
        for (size_t i = 1; i < len - 1; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '\\') {
                if (++i >= len - 1 || (unsigned char)s[i] < 0x20)
                    return -1;
                continue;
            }
            if (c == '"' || c < 0x20 || c == 0x7f)
                return -1;
        }
    } else {
        if (s[0] == '.' || s[len - 1] == '.')
            return -1;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '.') {
                if (s[i + 1] == '.')
                    return -1;
                continue;
            }
            if (!atext(c))
                return -1;
        }
    }
    memcpy(a->local, s, len);
    a->local[len] = 0;
    a->utf8_local = 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            a->utf8_local = 1;
    return 0;
}

int addr_domain_valid(const char *d)
{
    size_t n = strlen(d), label = 0;
    int labels = 1;

    if (n == 0 || n > ADDR_DOMAIN_MAX || d[0] == '.' || d[n - 1] == '.' || d[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return 0;
            labels++;
            label = 0;
            continue;
        }
        if (!(isalnum(c) || c == '-') || (label == 0 && c == '-') || ++label > 63)
            return 0;
    }
    if (labels < 2)
        return 0;
    /* the top-level label is not all digits (no address literals in disguise) */
    const char *tld = strrchr(d, '.') + 1;
    int digits = 1;
    for (const char *p = tld; *p; p++)
        if (!isdigit((unsigned char)*p))
            digits = 0;
    return labels >= 2 && !digits;
}

static int parse_domain(const char *s, size_t len, struct addr *a)
{
    char tmp[ADDR_DOMAIN_MAX * 4 + 1];
    int ascii = 1;

    if (len == 0 || len > sizeof(tmp) - 1 || s[0] == '[')
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)tmp[i] >= 0x80)
            ascii = 0;
    if (ascii) {
        if (len > ADDR_DOMAIN_MAX)
            return -1;
        for (size_t i = 0; i < len; i++)
            a->domain[i] = (char)tolower((unsigned char)tmp[i]);
        a->domain[len] = 0;
    } else {
        char *out = NULL;
        if (!codec_utf8_valid(tmp, len) ||
            idn2_to_ascii_8z(tmp, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
            return -1;
        if (strlen(out) > ADDR_DOMAIN_MAX) {
            free(out);
            return -1;
        }
        snprintf(a->domain, sizeof(a->domain), "%s", out);
        free(out);
        for (char *p = a->domain; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    return addr_domain_valid(a->domain) ? 0 : -1;
}

int addr_parse_bare(const char *in, size_t len, struct addr *a)
{
    const char *at = NULL;

    memset(a, 0, sizeof(*a));
    in = addr_trim(in, len, &len);
    /* the last '@' outside a quoted local part */
    for (size_t i = 0, q = 0; i < len; i++) {
        if (in[i] == '\\' && q) {
            i++;
            continue;
        }
        if (in[i] == '"')
            q = !q;
        else if (in[i] == '@' && !q)
            at = in + i;
    }
    if (at == NULL)
        return -1;
    if (parse_local(in, (size_t)(at - in), a) < 0 ||
        parse_domain(at + 1, len - (size_t)(at - in) - 1, a) < 0)
        return -1;
    snprintf(a->bare, sizeof(a->bare), "%s@%s", a->local, a->domain);
    return 0;
}

/* unquote_display - copy a display name, removing quotes and escapes */
static int unquote_display(const char *s, size_t len, char *out, size_t outsz)
{
    size_t o = 0;

    s = addr_trim(s, len, &len);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        for (size_t i = 1; i < len - 1 && o + 1 < outsz; i++) {
            if (s[i] == '\\' && i + 1 < len - 1)
                i++;
            else if (s[i] == '"')
                return -1;
            out[o++] = s[i];
        }
    } else {
        for (size_t i = 0; i < len && o + 1 < outsz; i++) {
            if (s[i] == '<' || s[i] == '>' || s[i] == '"' || (unsigned char)s[i] < 0x20)
                return -1;
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    return codec_utf8_valid(out, o) ? 0 : -1;
}

int addr_parse(const char *in, size_t len, struct addr *a)
{
    const char *lt, *gt;
    char display[1024];

    in = addr_trim(in, len, &len);
    if (len == 0 || memchr(in, 0, len))
        return -1;
    if (in[len - 1] != '>')
        return addr_parse_bare(in, len, a);
    gt = in + len - 1;
    /* the '<' that opens the final angle-addr (not inside the quoted name) */
    lt = NULL;
    for (const char *p = gt - 1; p >= in; p--)
        if (*p == '<') {
            lt = p;
            break;
        }
    if (lt == NULL)
        return -1;
    if (unquote_display(in, (size_t)(lt - in), display, sizeof(display)) < 0)
        return -1;
    if (addr_parse_bare(lt + 1, (size_t)(gt - lt - 1), a) < 0)
        return -1;
    /* no white space inside the angle brackets */
    for (const char *p = lt + 1; p < gt; p++)
        if (is_ws((unsigned char)*p))
            return -1;
    snprintf(a->display, sizeof(a->display), "%s", display);
    return 0;
}

char *addr_lower(char *out, size_t outsz, const char *bare)
{
    size_t i;

    for (i = 0; bare[i] && i + 1 < outsz; i++)
        out[i] = (char)tolower((unsigned char)bare[i]);
    out[i] = 0;
    return out;
}
