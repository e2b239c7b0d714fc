/* scan_test - ClamAV in the process: verdicts, archives, MIME, errors, reloads */
#include "tests/harness/ttest.h"
#include "global/scan/scan.h"
#include "util/buf.h"
#include "util/codec.h"

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

/* a project test string and a signature for it (hex of PROBE) */
#define PROBE "TXMAIL-SCAN-RELOAD-PROBE"
#define PROBE_SIG "Txmail.Test.Probe:0:*:54584d41494c2d5343414e2d52454c4f41442d50524f4245\n"

/* the EICAR test file in two halves, so this source is not itself a test file */
static char eicar[69];
static char sigdir[PATH_MAX];

static void setup(void)
{
    char exe[PATH_MAX];
    ssize_t n;

    snprintf(eicar, sizeof(eicar), "%s%s", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STAND",
             "ARD-ANTIVIRUS-TEST-FILE!$H+H*");
    if (access("conf/clamav/txmail-test.ndb", R_OK) == 0) {
        snprintf(sigdir, sizeof(sigdir), "conf/clamav");
        return;
    }
    /* build/test/scan_test -> the repository */
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    TT_ASSERT(n > 0);
    exe[n] = 0;
    snprintf(sigdir, sizeof(sigdir), "%s/../../conf/clamav", dirname(exe));
}

static struct scan *open_dir(const char *dir, int64_t check_ms)
{
    struct scan *s;
    char err[256];

    TT_EQ_INT(scan_open(dir, check_ms, &s, err, sizeof(err)), 0);
    TT_EQ_STR(err, "");
    return s;
}

static void copy_file(const char *from, const char *to)
{
    char data[65536];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;

    TT_ASSERT(in != NULL && out != NULL);
    while ((n = fread(data, 1, sizeof(data), in)) > 0)
        TT_ASSERT(fwrite(data, 1, n, out) == n);
    fclose(in);
    TT_EQ_INT(fclose(out), 0);
}

/* tmpdir - a fresh directory, with copies of the project's signature files when with_sigs */
static void tmpdir(char *dir, size_t dirsz, int with_sigs)
{
    static const char *const files[] = {"txmail-test.hdb", "txmail-test.ndb"};
    char from[PATH_MAX + 32], to[PATH_MAX];

    snprintf(dir, dirsz, "/tmp/scan_test.XXXXXX");
    TT_ASSERT(mkdtemp(dir) != NULL);
    for (int i = 0; with_sigs && i < 2; i++) {
        snprintf(from, sizeof(from), "%s/%s", sigdir, files[i]);
        snprintf(to, sizeof(to), "%s/%s", dir, files[i]);
        copy_file(from, to);
    }
}

static void rmdir_all(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[PATH_MAX];

    TT_ASSERT(d != NULL);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        TT_EQ_INT(unlink(path), 0);
    }
    closedir(d);
    TT_EQ_INT(rmdir(dir), 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    TT_ASSERT((fp = fopen(tmp, "w")) != NULL);
    fputs(text, fp);
    TT_EQ_INT(fclose(fp), 0);
    TT_EQ_INT(rename(tmp, path), 0);
}

TT_TEST(clean_and_plain)
{
    struct scan *s;
    struct scan_result r;
    const char *text = "Hello,\r\nthis is a clean reply.\r\n";
    char big[300000];

    setup();
    s = open_dir(sigdir, 0);
    TT_EQ_INT(scan_buffer(s, text, strlen(text), &r), SCAN_CLEAN);
    TT_EQ_STR(r.virus, "");
    TT_EQ_INT(scan_buffer(s, "", 0, &r), SCAN_CLEAN);
    TT_EQ_INT(scan_buffer(s, eicar, strlen(eicar), &r), SCAN_INFECTED);
    TT_ASSERT(strncmp(r.virus, "Txmail.Test.EICAR-", 18) == 0);
    /* anywhere in a bigger buffer: the .ndb signature */
    memset(big, 'a', sizeof(big));
    memcpy(big + 200001, eicar, strlen(eicar));
    TT_EQ_INT(scan_buffer(s, big, sizeof(big), &r), SCAN_INFECTED);
    TT_ASSERT(strncmp(r.virus, "Txmail.Test.EICAR-NDB", 21) == 0);
    /* one byte changed: no longer the test file */
    big[200001] = 'Y';
    TT_EQ_INT(scan_buffer(s, big, sizeof(big), &r), SCAN_CLEAN);
    scan_close(s);
}

/* zip_bytes - a ZIP archive with one member made with libzip; Ownership: new */
static char *zip_bytes(const char *member, const char *data, size_t len, size_t *outlen)
{
    char path[] = "/tmp/scan_test_zip.XXXXXX";
    int fd = mkstemp(path), err = 0;
    zip_t *z;
    zip_source_t *src;
    struct stat st;
    char *out;

    TT_ASSERT(fd >= 0);
    close(fd);
    TT_ASSERT((z = zip_open(path, ZIP_TRUNCATE, &err)) != NULL);
    TT_ASSERT((src = zip_source_buffer(z, data, len, 0)) != NULL);
    zip_int64_t idx = zip_file_add(z, member, src, ZIP_FL_ENC_UTF_8);
    TT_ASSERT(idx >= 0);
    TT_EQ_INT(zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 9), 0);
    TT_EQ_INT(zip_close(z), 0);
    TT_EQ_INT(stat(path, &st), 0);
    out = malloc((size_t)st.st_size);
    FILE *fp = fopen(path, "rb");
    TT_ASSERT(fp != NULL && fread(out, 1, (size_t)st.st_size, fp) == (size_t)st.st_size);
    fclose(fp);
    unlink(path);
    *outlen = (size_t)st.st_size;
    return out;
}

TT_TEST(archives_and_mime)
{
    struct scan *s;
    struct scan_result r;
    size_t zlen;
    char *z;
    struct buf b64, mail, dec;

    setup();
    s = open_dir(sigdir, 0);
    z = zip_bytes("readme.com", eicar, strlen(eicar), &zlen);
    TT_EQ_INT(scan_buffer(s, z, zlen, &r), SCAN_INFECTED);
    TT_ASSERT(strncmp(r.virus, "Txmail.Test.EICAR-", 18) == 0);
    free(z);
    /* deflated so that only unpacking finds it */
    char padded[20000];
    memset(padded, 'p', sizeof(padded));
    memcpy(padded + 5000, eicar, strlen(eicar));
    z = zip_bytes("padded.bin", padded, sizeof(padded), &zlen);
    TT_ASSERT(memmem(z, zlen, "EICAR", 5) == NULL);
    TT_EQ_INT(scan_buffer(s, z, zlen, &r), SCAN_INFECTED);
    TT_ASSERT(strncmp(r.virus, "Txmail.Test.EICAR-NDB", 21) == 0);
    free(z);
    z = zip_bytes("readme.txt", "just text", 9, &zlen);
    TT_EQ_INT(scan_buffer(s, z, zlen, &r), SCAN_CLEAN);
    free(z);

    /* a reply with the file as a base64 MIME part */
    buf_init(&b64, 4096);
    buf_init(&mail, 8192);
    buf_init(&dec, 4096);
    TT_EQ_INT(codec_b64_encode_lines(&b64, eicar, strlen(eicar)), 0);
    buf_printf(&mail,
               "From: a@example.com\r\nTo: b@example.com\r\nSubject: re\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\n"
               "Content-Type: text/plain\r\n\r\nsee attached\r\n--xx\r\n"
               "Content-Type: application/octet-stream; name=\"a.com\"\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n%.*s\r\n--xx--\r\n",
               (int)b64.len, b64.data);
    TT_ASSERT(memmem(mail.data, mail.len, "EICAR", 5) == NULL);
    /* the caller decodes the part and scans it */
    TT_EQ_INT(codec_b64_decode(&dec, b64.data, b64.len, 0), 0);
    TT_EQ_INT(scan_buffer(s, dec.data, dec.len, &r), SCAN_INFECTED);
    /* libclamav's own mail parser finds it in the raw message too */
    TT_EQ_INT(scan_buffer(s, mail.data, mail.len, &r), SCAN_INFECTED);
    buf_free(&b64);
    buf_free(&mail);
    buf_free(&dec);
    scan_close(s);
}

TT_TEST(missing_and_empty)
{
    struct scan *s;
    struct scan_result r;
    char err[256], dir[64];

    setup();
    TT_EQ_INT(scan_open("/nonexistent/clamav", 0, &s, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "/nonexistent/clamav") != NULL);
    TT_EQ_INT(scan_buffer(s, eicar, strlen(eicar), &r), SCAN_ERROR);
    TT_ASSERT(strstr(r.err, "no signatures loaded") != NULL);
    TT_EQ_INT(scan_buffer(s, "clean", 5, &r), SCAN_ERROR);
    TT_EQ_INT(scan_engines(s), 0);
    scan_close(s);

    /* an empty directory is an error too; it recovers once signatures arrive */
    tmpdir(dir, sizeof(dir), 0);
    TT_EQ_INT(scan_open(dir, 0, &s, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, dir) != NULL);
    TT_EQ_INT(scan_buffer(s, "clean", 5, &r), SCAN_ERROR);
    TT_EQ_INT(scan_reload_if_changed(s, err, sizeof(err)), 0);
    /* a broken database: the load fails, still no engine */
    write_file(dir, "bad.ndb", "not a signature\n");
    TT_EQ_INT(scan_reload_if_changed(s, err, sizeof(err)), -1);
    TT_ASSERT(err[0] != 0);
    TT_EQ_INT(scan_buffer(s, "clean", 5, &r), SCAN_ERROR);
    /* the file fixed (renamed into place): loaded */
    write_file(dir, "bad.ndb", PROBE_SIG);
    TT_EQ_INT(scan_reload_if_changed(s, err, sizeof(err)), 1);
    TT_EQ_INT(scan_buffer(s, "xx" PROBE "xx", strlen(PROBE) + 4, &r), SCAN_INFECTED);
    TT_EQ_INT(scan_buffer(s, "clean", 5, &r), SCAN_CLEAN);
    rmdir_all(dir);
    scan_close(s);
}

struct hammer {
    struct scan *s;
    const char *buf;
    size_t len;
    volatile int *stop;
    int scans, wrong;
};

/* hammer_run - scan the EICAR buffer until stopped, counting wrong verdicts */
static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    struct scan_result r;

    while (!*h->stop || h->scans == 0) {
        if (scan_buffer(h->s, h->buf, h->len, &r) != SCAN_INFECTED)
            h->wrong++;
        h->scans++;
    }
    return NULL;
}

TT_TEST(reload)
{
    struct scan *s;
    struct scan_engine *old, *cur;
    struct scan_result r;
    char dir[64], err[256], big[200000];
    const char *probe = "hello " PROBE " world";
    volatile int stop = 0;
    struct hammer h[4];
    pthread_t t[4];

    setup();
    tmpdir(dir, sizeof(dir), 1);
    s = open_dir(dir, 0);
    TT_EQ_INT(scan_engines(s), 1);
    TT_EQ_INT(scan_buffer(s, probe, strlen(probe), &r), SCAN_CLEAN);
    TT_EQ_INT(scan_reload_if_changed(s, err, sizeof(err)), 0);

    /* scans run on the current engine while it is replaced */
    memset(big, 'b', sizeof(big));
    memcpy(big + sizeof(big) - 100, eicar, strlen(eicar));
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){.s = s, .buf = big, .len = sizeof(big), .stop = &stop};
        TT_EQ_INT(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
    }
    /* a message in flight holds the old engine */
    TT_ASSERT((old = scan_acquire(s, err, sizeof(err))) != NULL);
    write_file(dir, "probe.ndb", PROBE_SIG);
    TT_EQ_INT(scan_reload_if_changed(s, err, sizeof(err)), 1);
    TT_EQ_STR(err, "");
    TT_ASSERT(scan_engines(s) >= 2);
    /* the old engine still works and does not know the new signature */
    TT_EQ_INT(scan_engine_buffer(old, probe, strlen(probe), &r), SCAN_CLEAN);
    TT_EQ_INT(scan_engine_buffer(old, eicar, strlen(eicar), &r), SCAN_INFECTED);
    /* new scans use the new one */
    TT_EQ_INT(scan_buffer(s, probe, strlen(probe), &r), SCAN_INFECTED);
    TT_EQ_STR(r.virus, "Txmail.Test.Probe.UNOFFICIAL");
    TT_ASSERT((cur = scan_acquire(s, err, sizeof(err))) != NULL);
    TT_ASSERT(cur != old);
    TT_EQ_INT(scan_engine_signatures(cur), scan_engine_signatures(old) + 1);
    scan_release(s, cur);
    /* more reloads under load */
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "probe%d.ndb", i);
        write_file(dir, name, PROBE_SIG);
        TT_EQ_INT(scan_reload_if_changed(s, err, sizeof(err)), 1);
    }
    stop = 1;
    for (int i = 0; i < 4; i++) {
        TT_EQ_INT(pthread_join(t[i], NULL), 0);
        TT_EQ_INT(h[i].wrong, 0);
        TT_ASSERT(h[i].scans > 0);
    }
    /* the last hold of the first engine frees it */
    TT_EQ_INT(scan_engines(s), 2);
    scan_release(s, old);
    TT_EQ_INT(scan_engines(s), 1);
    scan_close(s);
    rmdir_all(dir);
}

TT_TEST(automatic_check)
{
    struct scan *s;
    struct scan_result r;
    char dir[64];
    const char *probe = PROBE;

    setup();
    tmpdir(dir, sizeof(dir), 1);
    s = open_dir(dir, 1000);
    TT_EQ_INT(scan_buffer(s, probe, strlen(probe), &r), SCAN_CLEAN);
    write_file(dir, "probe.ndb", PROBE_SIG);
    /* not checked before the interval */
    TT_EQ_INT(scan_buffer(s, probe, strlen(probe), &r), SCAN_CLEAN);
    usleep(1100000);
    TT_EQ_INT(scan_buffer(s, probe, strlen(probe), &r), SCAN_INFECTED);
    TT_EQ_INT(scan_engines(s), 1);
    scan_close(s);
    rmdir_all(dir);
}

TT_MAIN(TT_CASE(clean_and_plain), TT_CASE(archives_and_mime), TT_CASE(missing_and_empty),
        TT_CASE(reload), TT_CASE(automatic_check))
