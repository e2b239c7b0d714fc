/* securezip_pack_test - the ZIP builder, read back with libzip: AES-256 entries, the password, names */
#include "tests/harness/ttest.h"
#include "workers/securezip/securezip.h"

#include <string.h>
#include <zip.h>

/* open_zip - the archive in b, read-only. Ownership: new (zip_discard). */
static zip_t *open_zip(const struct buf *b)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *s = zip_source_buffer_create(b->data, b->len, 0, &ze);
    zip_t *za = s ? zip_open_from_source(s, ZIP_RDONLY | ZIP_CHECKCONS, &ze) : NULL;
    if (za == NULL)
        zip_source_free(s);
    zip_error_fini(&ze);
    return za;
}

/* read_entry - entry i with pw into out (cap bytes): its length, or -1 */
static long read_entry(zip_t *za, zip_uint64_t i, const char *pw, char *out, size_t cap)
{
    zip_file_t *f = zip_fopen_index_encrypted(za, i, 0, pw);
    if (f == NULL)
        return -1;
    zip_int64_t n = zip_fread(f, out, cap);
    zip_fclose(f);
    return (long)n;
}

TT_TEST(round_trip_with_password)
{
    static const char a[] = "first document\n", b[] = "second\0binary\xff";
    struct securezip_entry e[2];
    const char *names[] = {"a.txt", "b.bin"};
    struct buf out = BUF_INIT(1 << 20);
    char err[300], got[100];
    zip_stat_t st;

    securezip_pack_names(e, 2, names);
    e[0].data = (const unsigned char *)a, e[0].len = sizeof(a) - 1;
    e[1].data = (const unsigned char *)b, e[1].len = sizeof(b) - 1;
    TT_EQ_INT(securezip_pack_build(e, 2, "Aa2Bb3Cc4D", &out, err, sizeof(err)), 0);
    zip_t *za = open_zip(&out);
    TT_ASSERT(za != NULL);
    TT_EQ_INT(zip_get_num_entries(za, 0), 2);
    for (zip_uint64_t i = 0; i < 2; i++) {
        TT_EQ_INT(zip_stat_index(za, i, 0, &st), 0);
        TT_EQ_STR(st.name, names[i]);
        TT_EQ_INT(st.encryption_method, ZIP_EM_AES_256);
        long n = read_entry(za, i, "Aa2Bb3Cc4D", got, sizeof(got));
        TT_EQ_MEM(got, (size_t)(n < 0 ? 0 : n), e[i].data, e[i].len);
        /* a wrong password opens nothing (AE-2 password verifier) */
        TT_EQ_INT(read_entry(za, i, "Aa2Bb3Cc4E", got, sizeof(got)), -1);
        TT_EQ_INT(read_entry(za, i, NULL, got, sizeof(got)), -1);
    }
    zip_discard(za);
    buf_free(&out);
}

TT_TEST(names_sanitised_and_unique)
{
    struct securezip_entry e[7];
    const char *names[] = {"../../etc/passwd", "a.txt", "a.txt", "dir\\a.txt", "", NULL, ".hidden"};

    securezip_pack_names(e, 7, names);
    TT_EQ_STR(e[0].name, "_._.._etc_passwd");
    TT_EQ_STR(e[1].name, "a.txt");
    TT_EQ_STR(e[2].name, "a-2.txt");
    TT_EQ_STR(e[3].name, "dir_a.txt");
    TT_EQ_STR(e[4].name, "attachment");
    TT_EQ_STR(e[5].name, "attachment-2");
    TT_EQ_STR(e[6].name, "_hidden");
    for (int i = 0; i < 7; i++)
        TT_ASSERT(strchr(e[i].name, '/') == NULL && strchr(e[i].name, '\\') == NULL);
    /* UTF-8 kept, broken sequences replaced (libzip refuses them as UTF-8 names) */
    const char *u[] = {"\xc3\xa4rger.pdf", "\xff\xc3(.txt"};
    securezip_pack_names(e, 2, u);
    TT_EQ_STR(e[0].name, "\xc3\xa4rger.pdf");
    TT_EQ_STR(e[1].name, "__(.txt");
}

TT_TEST(size_limit_fails)
{
    static unsigned char big[4096];
    struct securezip_entry e[1];
    const char *names[] = {"big.bin"};
    struct buf out = BUF_INIT(1000);
    char err[300];

    memset(big, 'x', sizeof(big));
    securezip_pack_names(e, 1, names);
    e[0].data = big, e[0].len = sizeof(big);
    TT_EQ_INT(securezip_pack_build(e, 1, "Aa2Bb3Cc4D", &out, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "size limit") != NULL);
    buf_free(&out);
    /* compressible data under the limit fits */
    struct buf ok = BUF_INIT(100000);
    TT_EQ_INT(securezip_pack_build(e, 1, "Aa2Bb3Cc4D", &ok, err, sizeof(err)), 0);
    TT_ASSERT(ok.len > 0 && ok.len < sizeof(big));
    buf_free(&ok);
}

TT_MAIN(TT_CASE(round_trip_with_password), TT_CASE(names_sanitised_and_unique),
        TT_CASE(size_limit_fails))
