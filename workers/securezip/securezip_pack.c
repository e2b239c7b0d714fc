/*
 * securezip_pack - the flagged attachments as one ZIP, every entry
 * AES-256 (WinZip AE-2), built in memory with libzip (contract §16.3).
 */
#include "workers/securezip/securezip.h"
#include "util/codec.h"

#include <stdio.h>
#include <string.h>
#include <zip.h>

/* seq_len - length of the valid UTF-8 sequence at p (1 for ASCII), 0 when invalid */
static size_t seq_len(const char *p)
{
    unsigned char c = (unsigned char)*p;
    size_t n = c < 0x80                 ? 1
               : c >= 0xc2 && c <= 0xdf ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;

    for (size_t i = 1; i < n; i++)
        if (((unsigned char)p[i] & 0xc0) != 0x80)
            return 0;
    return n && codec_utf8_valid(p, n) ? n : 0;
}

/* clean_name - one attachment name as a ZIP entry name (no directories, valid UTF-8) */
static void clean_name(char *out, size_t outsz, const char *name)
{
    size_t n = 0;

    for (const char *p = name ? name : ""; *p;) {
        unsigned char c = (unsigned char)*p;
        size_t k = seq_len(p);
        if (k == 0 || c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == ':' ||
            (n == 0 && c == '.'))
            k = 0;
        if (n + (k ? k : 1) + 1 > outsz)
            break;
        if (k)
            memcpy(out + n, p, k), n += k, p += k;
        else
            out[n++] = '_', p++;
    }
    out[n] = 0;
    if (n == 0)
        snprintf(out, outsz, "attachment");
}

static int taken(const struct securezip_entry *e, size_t upto, const char *name)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(e[i].name, name) == 0)
            return 1;
    return 0;
}

void securezip_pack_names(struct securezip_entry *e, size_t n, const char *const *names)
{
    char base[200], cand[256];

    for (size_t i = 0; i < n; i++) {
        clean_name(base, sizeof(base), names[i]);
        snprintf(e[i].name, sizeof(e[i].name), "%s", base);
        const char *dot = strrchr(base, '.');
        size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        for (int k = 2; taken(e, i, e[i].name); k++) {
            snprintf(cand, sizeof(cand), "%.*s-%d%s", (int)stem, base, k, base + stem);
            snprintf(e[i].name, sizeof(e[i].name), "%s", cand);
        }
    }
}

/* read_all - the finished archive out of its source into out */
static int read_all(zip_source_t *src, struct buf *out, char *err, size_t errsz)
{
    zip_stat_t st;
    unsigned char chunk[16384];
    zip_int64_t got;
    int rc = -1;

    if (zip_source_stat(src, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
        snprintf(err, errsz, "libzip: cannot stat the archive");
        return -1;
    }
    if (st.size > out->max) {
        snprintf(err, errsz, "the ZIP (%llu bytes) is over the size limit of %zu bytes",
                 (unsigned long long)st.size, out->max);
        return -1;
    }
    if (zip_source_open(src) < 0) {
        snprintf(err, errsz, "libzip: %s", zip_error_strerror(zip_source_error(src)));
        return -1;
    }
    while ((got = zip_source_read(src, chunk, sizeof(chunk))) > 0)
        if (buf_append(out, chunk, (size_t)got) < 0) {
            snprintf(err, errsz, "the ZIP is over the size limit of %zu bytes", out->max);
            goto out;
        }
    if (got < 0)
        snprintf(err, errsz, "libzip: %s", zip_error_strerror(zip_source_error(src)));
    else
        rc = 0;
out:
    zip_source_close(src);
    return rc;
}

int securezip_pack_build(const struct securezip_entry *e, size_t n, const char *password,
                         struct buf *out, char *err, size_t errsz)
{
    zip_error_t ze;
    zip_source_t *src, *s;
    zip_t *za = NULL;
    size_t total = 0;
    int rc = -1;

    for (size_t i = 0; i < n; i++)
        total += e[i].len;
    if (total > out->max) {
        snprintf(err, errsz, "the documents (%zu bytes) are over the size limit of %zu bytes",
                 total, out->max);
        return -1;
    }
    zip_error_init(&ze);
    if ((src = zip_source_buffer_create(NULL, 0, 0, &ze)) == NULL ||
        (za = zip_open_from_source(src, ZIP_TRUNCATE, &ze)) == NULL) {
        snprintf(err, errsz, "libzip: %s", zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return -1;
    }
    zip_source_keep(src); /* the archive's bytes outlive zip_close */
    for (size_t i = 0; i < n; i++) {
        zip_int64_t idx;
        if ((s = zip_source_buffer(za, e[i].data, e[i].len, 0)) == NULL)
            goto zerr;
        if ((idx = zip_file_add(za, e[i].name, s, ZIP_FL_ENC_UTF_8)) < 0) {
            zip_source_free(s); /* consumed only on success */
            goto zerr;
        }
        if (zip_file_set_encryption(za, (zip_uint64_t)idx, ZIP_EM_AES_256, password) < 0)
            goto zerr;
    }
    if (zip_close(za) < 0)
        goto zerr;
    za = NULL;
    rc = read_all(src, out, err, errsz);
    goto out;
zerr:
    snprintf(err, errsz, "libzip: %s", zip_strerror(za));
    zip_discard(za);
    za = NULL;
out:
    zip_source_free(src);
    zip_error_fini(&ze);
    return rc;
}
