/*
 * smtpdmsg_fuzz - libFuzzer target over what txmail-smtpd reads from a
 * client after DATA/BDAT: the stream machine (producers/smtpd/smtpd_data.h),
 * the header section read one way with its GMime cross-check
 * (smtpd_msghdr.h), X-RETARUS-M4A-* values, the From:/Sender: mailbox
 * check (GMime address lists) and the MIME walk for attachment names
 * (smtpd_mime.h, smtpd_headers.h).
 *
 * Input: the octets of a DATA phase. Invariants beyond "no crash, no leak,
 * no undefined behaviour": feeding the stream in one piece or in pieces of
 * every size from the first octet of the input gives the same message, the
 * same end and the same limit and bare CR/LF flags; the stored message has
 * only CRLF line ends; a header section the line rules accept is never read
 * otherwise by GMime (SMTPD_MSGHDR_DISAGREE never happens); every field
 * found lies inside the header section; a From:/Sender: value that passes
 * the mailbox check reports a first mailbox in the domain checked.
 *
 * FUZZ_SOURCES: producers/smtpd/smtpd_data.c producers/smtpd/smtpd_mime.c producers/smtpd/smtpd_headers.c
 * FUZZ_SOURCES: producers/smtpd/smtpd_msghdr.c
 * FUZZ_SOURCES: lib/global/account.c lib/global/addr.c lib/global/crypto.c lib/global/ids.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/codec.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_LIBS: -ljansson -lidn2 -lcrypto
 * FUZZ_PKGS: gmime-3.0
 */
#include "producers/smtpd/smtpd_data.h"
#include "producers/smtpd/smtpd_headers.h"
#include "producers/smtpd/smtpd_mime.h"
#include "producers/smtpd/smtpd_msghdr.h"
#include "global/account.h"
#include "util/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIMIT 65536

static json_t *settings;

static size_t stream(const uint8_t *data, size_t size, size_t step, struct buf *out,
                     struct smtpd_data *d, enum smtpd_data_mode mode)
{
    size_t used = 0;

    smtpd_data_init(d, out, LIMIT, mode);
    while (used < size && !d->done) {
        size_t n = size - used < step ? size - used : step;
        size_t c = smtpd_data_feed(d, (const char *)data + used, n);
        used += c;
        if (c < n)
            break;
    }
    if (mode == SMTPD_DATA_CHUNK)
        smtpd_data_finish(d);
    return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf whole = BUF_INIT(0), piece = BUF_INIT(0), v = BUF_INIT(1 << 20),
               name = BUF_INIT(1 << 20);
    struct smtpd_data d1, d2;
    struct smtpd_fields fs;
    struct smtpd_m4a m;
    char reply[600], first[300];

    if (settings == NULL)
        settings = account_settings("{\"forbiddenExtensions\":[\"exe\",\"js\"]}");
    for (int mode = 0; mode < 2; mode++) {
        size_t step = size ? (size_t)data[0] % 17 + 1 : 1;
        size_t u1 = stream(data, size, size ? size : 1, &whole, &d1, mode);
        size_t u2 = stream(data, size, step, &piece, &d2, mode);
        if (u1 != u2 || d1.done != d2.done || d1.too_big != d2.too_big ||
            d1.too_long_line != d2.too_long_line || d1.bare_lf != d2.bare_lf ||
            d1.bare_cr != d2.bare_cr || whole.len != piece.len ||
            (whole.len && memcmp(whole.data, piece.data, whole.len) != 0))
            abort();
        for (size_t i = 0; i < whole.len; i++)
            if (whole.data[i] == '\n' && (i == 0 || whole.data[i - 1] != '\r'))
                abort();
    }
    /* the message checks over what DATA stored */
    const char *msg = buf_ptr(&whole);
    size_t len = whole.len;
    enum smtpd_msghdr_rc hrc =
        smtpd_msghdr_parse(msg, len, &fs, SMTPD_MIME_FIELDS_MAX, reply, sizeof(reply));
    if (hrc == SMTPD_MSGHDR_DISAGREE)
        abort(); /* the line rules let through what GMime reads otherwise */
    if (hrc != SMTPD_MSGHDR_OK) {
        smtpd_mime_fields_free(&fs);
        smtpd_mime_fields(msg, len, &fs,
                          SMTPD_MIME_FIELDS_MAX); /* the lenient split, for coverage */
    }
    smtpd_headers_m4a_init(&m);
    for (int i = 0; i < fs.n; i++) {
        const struct smtpd_field *f = &fs.f[i];
        if (f->off + f->len > fs.body_off || f->value < msg || f->value + f->value_len > msg + len)
            abort();
        if (smtpd_headers_m4a_is(f->name, f->name_len))
            smtpd_headers_m4a_field(&m, f->name, f->name_len, f->value, f->value_len, reply,
                                    sizeof(reply));
        if (smtpd_mime_field_is(f, "From") || smtpd_mime_field_is(f, "Sender")) {
            int r =
                smtpd_msghdr_mailboxes(f->value, f->value_len, "example.com", first, sizeof(first));
            const char *at = strrchr(first, '@');
            /* accepted: the first mailbox is a full address of the domain; refused: none reported */
            if ((r == 1 && (at == NULL || at == first || strcasecmp(at + 1, "example.com") != 0)) ||
                (r < 0 && first[0]))
                abort();
        }
        if (smtpd_mime_field_is(f, "Content-Type")) {
            buf_reset(&v);
            smtpd_mime_unfold(f->value, f->value_len, &v);
            buf_reset(&name);
            smtpd_mime_param(buf_ptr(&v), v.len, "name", &name);
            smtpd_mime_decode2047(buf_ptr(&v), v.len, &name);
        }
    }
    smtpd_headers_m4a_complete(&m, reply, sizeof(reply));
    smtpd_headers_m4a_free(&m);
    smtpd_mime_fields_free(&fs);
    buf_reset(&name);
    smtpd_mime_attachments(msg, len, settings, &name);
    buf_free(&whole);
    buf_free(&piece);
    buf_free(&v);
    buf_free(&name);
    return 0;
}
