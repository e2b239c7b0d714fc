/*
 * securezip_fuzz - libFuzzer target over txmail-securezip's handling of
 * outside input (workers/securezip): attachment names (from the
 * JobRequest) as ZIP entry names, attachment bytes into the AES-256 ZIP,
 * and the password generator fed arbitrary "random" bytes.
 *
 * The input is split at NUL bytes: up to 8 names, then the rest is the
 * content of every entry. Invariants beyond "no crash, no leak, no
 * undefined behaviour": every entry name is non-empty, has no '/' or
 * '\\' or control character, does not start with '.', is valid UTF-8, and the names are
 * unique; the ZIP builds (the limit is large enough) and reads back with
 * libzip under the password, every entry AES-256 with the content given;
 * the generator's password, when it makes one, follows the rules.
 *
 * FUZZ_SOURCES: workers/securezip/securezip_pack.c workers/securezip/securezip_pw.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c lib/util/codec.c
 * FUZZ_PKGS: libzip openssl
 */
#include "workers/securezip/securezip.h"
#include "util/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

static const uint8_t *src;
static size_t src_len, src_pos;

static int fuzz_rand(unsigned char *buf, size_t n)
{
    if (src_len == 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        buf[i] = src[src_pos++ % src_len];
    return 0;
}

static void check_names(const struct securezip_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = e[i].name;
        if (!memchr(s, 0, sizeof(e[i].name)) || !*s || *s == '.' || strpbrk(s, "/\\:"))
            abort();
        for (const char *p = s; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                abort();
        if (!codec_utf8_valid(s, strlen(s)))
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(e[j].name, s) == 0)
                abort();
    }
}

static void read_back(const struct buf *b, const struct securezip_entry *e, size_t n)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *s = zip_source_buffer_create(b->data, b->len, 0, &ze);
    zip_t *za = s ? zip_open_from_source(s, ZIP_RDONLY, &ze) : NULL;
    if (za == NULL || zip_get_num_entries(za, 0) != (zip_int64_t)n)
        abort();
    for (size_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, i, 0, &st) < 0 || st.encryption_method != ZIP_EM_AES_256 ||
            strcmp(st.name, e[i].name) != 0 || st.size != e[i].len)
            abort();
        zip_file_t *f = zip_fopen_index_encrypted(za, i, 0, "Aa2Bb3Cc4D");
        char *got = malloc(e[i].len + 1);
        if (f == NULL || zip_fread(f, got, e[i].len + 1) != (zip_int64_t)e[i].len ||
            memcmp(got, e[i].data, e[i].len) != 0)
            abort();
        free(got);
        zip_fclose(f);
    }
    zip_discard(za);
    zip_error_fini(&ze);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    const char *names[8];
    struct securezip_entry e[8];
    size_t n = 0, off = 0;
    char err[300], pw[SECUREZIP_PW_MAX + 1];

    memcpy(copy, data, size);
    copy[size] = 0;
    while (n < 8 && off < size) {
        const char *z = memchr(copy + off, 0, size - off);
        if (z == NULL)
            break;
        names[n++] = copy + off;
        off = (size_t)(z - copy) + 1;
    }
    if (n == 0)
        names[n++] = copy;
    memset(e, 0, sizeof(e));
    securezip_pack_names(e, n, names);
    check_names(e, n);
    for (size_t i = 0; i < n; i++) {
        e[i].data = (const unsigned char *)data + off;
        e[i].len = size - off;
    }
    struct buf out = BUF_INIT(1 << 22);
    if (securezip_pack_build(e, n, "Aa2Bb3Cc4D", &out, err, sizeof(err)) < 0)
        abort();
    read_back(&out, e, n);
    buf_free(&out);
    src = data, src_len = size, src_pos = 0;
    if (securezip_pw_make(pw, 10, fuzz_rand) == 0 && !securezip_pw_valid(pw))
        abort();
    free(copy);
    return 0;
}
