/*
 * bounce_virus - the virus scan of a reply before it is forwarded: the
 * raw message as received, then every leaf MIME part decoded from its
 * transfer encoding (base64, quoted-printable), walked with GMime through
 * multiparts and attached messages (at most BOUNCE_VIRUS_DEPTH levels),
 * all with one engine held for the whole message (lib/global/scan:
 * ClamAV in the process, signatures of bounce_scan_signatures, looked at
 * again every bounce_scan_check_interval). The first find wins. An
 * engine that cannot scan (no signatures loaded, a libclamav error) is
 * TX_RETRY_UNAVAILABLE: a reply is never forwarded unscanned.
 */
#include "workers/bounce/bounce.h"
#include "global/scan/scan.h"
#include "util/msg.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>

#define BOUNCE_VIRUS_DEPTH 20

static struct scan *scanner;

int bounce_virus_init(void)
{
    char err[SCAN_ERR_MAX];

    if (scan_open(bounce_conf.scan_signatures, bounce_conf.scan_check_ms, &scanner, err,
                  sizeof(err)) < 0)
        msg_warn("virus scan: %s (replies wait until signatures load)", err);
    return scanner ? 0 : -1;
}

void bounce_virus_done(void)
{
    scan_close(scanner);
    scanner = NULL;
}

/* walk state: the held engine, the verdict so far */
struct walk {
    struct scan_engine *e;
    enum scan_verdict v;
    struct scan_result r;
};

/* leaf - scan the decoded content of one part */
static void leaf(struct walk *w, GMimePart *part)
{
    GByteArray *ba = bounce_msg_part_content(part);

    if (ba == NULL)
        return;
    if (ba->len > 0)
        w->v = scan_engine_buffer(w->e, ba->data, ba->len, &w->r);
    g_byte_array_free(ba, TRUE);
}

/* walk - every leaf under obj, until a find or an error */
static void walk(struct walk *w, GMimeObject *obj, int depth)
{
    if (obj == NULL || w->v != SCAN_CLEAN || depth > BOUNCE_VIRUS_DEPTH)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (m)
            walk(w, g_mime_message_get_mime_part(m), depth + 1);
    } else if (GMIME_IS_PART(obj)) {
        leaf(w, GMIME_PART(obj));
    }
}

/* parts - the decoded parts of raw */
static void parts(struct walk *w, const char *raw, size_t len)
{
    GMimeMessage *m = bounce_msg_open(raw, len);

    if (m) {
        walk(w, g_mime_message_get_mime_part(m), 0);
        g_object_unref(m);
    }
}

enum tx_code bounce_virus_scan(const char *raw, size_t len, char *sig, size_t sigsz, char *err,
                               size_t errsz)
{
    struct walk w;

    sig[0] = err[0] = 0;
    memset(&w, 0, sizeof(w));
    if ((w.e = scan_acquire(scanner, err, errsz)) == NULL)
        return TX_RETRY_UNAVAILABLE;
    w.v = scan_engine_buffer(w.e, raw, len, &w.r);
    if (w.v == SCAN_CLEAN)
        parts(&w, raw, len);
    scan_release(scanner, w.e);
    if (w.v == SCAN_ERROR) {
        snprintf(err, errsz, "%s", w.r.err);
        return TX_RETRY_UNAVAILABLE;
    }
    if (w.v == SCAN_INFECTED)
        snprintf(sig, sigsz, "%s", w.r.virus[0] ? w.r.virus : "unnamed signature");
    return TX_OK;
}
