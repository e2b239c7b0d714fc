/*
 * smime_fuzz - libFuzzer target over S/MIME signing (lib/global/smime/smime.h):
 * any byte string as the message to sign (what render or an SMTP client
 * wrote), and as a PEM certificate with a fixed key.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour":
 * smime_sign returns 0 or -1 with a reason; on 0 the output holds one
 * multipart/signed Content-Type, no DKIM-Signature field outside the
 * signed entity, and ends with the closing boundary; the count of DKIM
 * fields seen is within the input's size. smime_signer_parse of arbitrary
 * PEM returns 0 or -1 and leaves nothing behind on -1.
 *
 * FUZZ_SOURCES: lib/global/smime/smime_cert.c lib/global/smime/smime_sign.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/codec.c lib/util/mymalloc.c lib/util/msg.c
 * FUZZ_SOURCES: lib/util/timeutil.c
 * FUZZ_LIBS: -lssl -lcrypto
 */
#include "global/smime/smime.h"
#include "global/smime/smime_fixtures.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct smime_signer signer;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out = BUF_INIT(1 << 22);
    struct smime_dkim_seen seen;
    struct smime_signer s;
    char err[300];

    if (signer.cert == NULL &&
        smime_signer_parse(&signer, ALICE_PEM, strlen(ALICE_PEM), ALICE_KEY, strlen(ALICE_KEY),
                           CA_PEM, strlen(CA_PEM), err, sizeof(err)) < 0)
        abort();
    int rc = smime_sign(&out, (const char *)data, size, &signer, &seen, err, sizeof(err));
    if (rc != 0 && (rc != -1 || !err[0]))
        abort();
    if (seen.n < 0 || (size_t)seen.n > size)
        abort();
    if (rc == 0) {
        const char *p = buf_ptr(&out);
        size_t hdr = 0, bl;
        const char *body;
        if (out.len < 10 || memcmp(p + out.len - 4, "--\r\n", 4) != 0 ||
            smime_split(p, out.len, &hdr, &body, &bl) < 0)
            abort();
        if (memmem(p, hdr, "multipart/signed", 16) == NULL)
            abort();
        size_t pos = 0, a, b;
        while (smime_next_field(p, hdr, &pos, &a, &b) == 0)
            if (b - a >= 15 && strncasecmp(p + a, "DKIM-Signature:", 15) == 0)
                abort();
    }
    buf_free(&out);
    if (smime_signer_parse(&s, (const char *)data, size, ALICE_KEY, strlen(ALICE_KEY),
                           (const char *)data, size, err, sizeof(err)) == 0)
        smime_signer_free(&s);
    else if (s.cert || s.key || s.chain)
        abort();
    return 0;
}
