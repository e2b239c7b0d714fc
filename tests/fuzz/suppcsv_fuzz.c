/*
 * suppcsv_fuzz - libFuzzer target over what `txmailctl suppression import`
 * reads from an operator's file (lib/global/manage/suppcsv.h): the RFC 4180
 * reader, the header's column lookup, and the check of every line
 * (address, type, expiresTs, reason).
 *
 * Input: the bytes of a CSV file. Invariants beyond "no crash, no leak,
 * no undefined behaviour": a file refused as a whole leaves no lines and
 * says why; otherwise the invalid count is the number of lines with an
 * error, a valid line has a non-empty address that is already in its
 * lowercase, trimmed form, and line numbers grow strictly from 2 (the
 * header is line 1).
 *
 * FUZZ_SOURCES: lib/global/manage/suppcsv.c lib/global/manage/supplist.c lib/global/db.c
 * FUZZ_SOURCES: lib/global/addr.c lib/global/account.c lib/global/crypto.c lib/global/ids.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/codec.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_SOURCES: lib/util/ttlcache.c lib/util/hash.c
 * FUZZ_LIBS: -ljansson -lidn2 -lcrypto
 * FUZZ_PKGS: libmariadb
 */
#include "global/manage/suppcsv.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct suppcsv_file f;
    char err[200] = "";
    FILE *in = fmemopen(size ? (void *)data : (void *)"", size ? size : 1, "r");

    if (in == NULL)
        return 0;
    memset(&f, 0, sizeof(f));
    if (suppcsv_read(in, &f, err, sizeof(err)) < 0) {
        if (f.n != 0 || err[0] == 0)
            abort();
        fclose(in);
        return 0;
    }
    fclose(in);
    size_t invalid = 0;
    long prev = 1;
    for (size_t i = 0; i < f.n; i++) {
        const struct suppcsv_line *l = &f.lines[i];
        if (l->line <= prev)
            abort();
        prev = l->line;
        if (l->error[0]) {
            invalid++;
            continue;
        }
        if (l->address[0] == 0 || isspace((unsigned char)l->address[0]))
            abort();
        for (const char *p = l->address; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                abort();
    }
    if (invalid != f.invalid)
        abort();
    suppcsv_free(&f);
    return 0;
}
