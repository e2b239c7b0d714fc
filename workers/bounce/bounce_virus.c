/*
 * bounce_virus - the virus scan of a reply before it is forwarded: the
 * raw message as received, then every leaf MIME part decoded from its
 * transfer encoding (base64, quoted-printable), walked with GMime through
 * multiparts and attached messages (lib/global/scan/mimeparts.h, at most
 * MIMEPARTS_DEPTH levels),
 * all with one engine held for the whole message (lib/global/scan:
 * ClamAV in the process, signatures of bounce_scan_signatures, looked at
 * again every bounce_scan_check_interval). The first find wins. An
 * engine that cannot scan (no signatures loaded, a libclamav error) is
 * TX_RETRY_UNAVAILABLE: a reply is never forwarded unscanned.
 */
#include "workers/bounce/bounce.h"
#include "global/scan/mimeparts.h"
#include "global/scan/scan.h"
#include "util/msg.h"

#include <stdio.h>
#include <string.h>

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

/* leaf - scan the decoded content of one part; non-zero (stop) on a find or an error */
static int leaf(const struct mimeparts_part *p, void *ctx)
{
    struct walk *w = ctx;

    if (p->len > 0)
        w->v = scan_engine_buffer(w->e, p->data, p->len, &w->r);
    return w->v != SCAN_CLEAN;
}

/* parts - the decoded parts of raw (lib/global/scan/mimeparts.h: the scan stage's walk) */
static void parts(struct walk *w, const char *raw, size_t len)
{
    mimeparts_walk(raw, len, leaf, w, NULL);
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
