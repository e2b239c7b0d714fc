/* reportzip - a daily report as a ZIP archive; see reportzip.h. */
#include "global/report/reportzip.h"
#include "global/report/reportrow.h"
#include "global/report/reportstore.h"
#include "util/buf.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

/* one part being read into the archive */
struct part_src {
    struct db *db;
    long long account_id;
    const char *day;
    int part, chunks, seq;
    long long bytes;
    time_t mtime;
    struct buf chunk;
    size_t off;
    zip_error_t err;
    enum tx_code *rc; /* the archive's first failure */
};

char *reportzip_name(char *out, size_t outsz, const char *prefix, int part, int parts,
                     const char *ext)
{
    if (parts > 1 && part > 0)
        snprintf(out, outsz, "%s-part%02d.%s", prefix, part, ext);
    else
        snprintf(out, outsz, "%s.%s", prefix, ext);
    return out;
}

static zip_int64_t src_read(struct part_src *s, void *data, zip_uint64_t len)
{
    while (s->off == s->chunk.len) {
        enum tx_code rc;

        if (s->seq == s->chunks)
            return 0;
        rc = reportstore_chunk(s->db, s->account_id, s->day, s->part, s->seq++, &s->chunk);
        if (rc != TX_OK) {
            if (*s->rc == TX_OK)
                *s->rc = TX_RETRY_DB;
            zip_error_set(&s->err, ZIP_ER_READ, EIO);
            return -1;
        }
        s->off = 0;
    }
    size_t n = s->chunk.len - s->off;
    if (n > len)
        n = (size_t)len;
    memcpy(data, s->chunk.data + s->off, n);
    s->off += n;
    return (zip_int64_t)n;
}

static zip_int64_t src_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct part_src *s = ud;

    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        s->seq = 0;
        s->off = 0;
        buf_reset(&s->chunk);
        return 0;
    case ZIP_SOURCE_READ:
        return src_read(s, data, len);
    case ZIP_SOURCE_CLOSE:
        buf_free(&s->chunk);
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zip_stat_init(st);
        st->size = (zip_uint64_t)s->bytes;
        st->mtime = s->mtime;
        st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
        return sizeof(*st);
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&s->err, data, len);
    case ZIP_SOURCE_FREE:
        buf_free(&s->chunk);
        zip_error_fini(&s->err);
        xfree(s);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              -1);
    default:
        zip_error_set(&s->err, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* add_part - one entry; libzip owns the source once zip_file_add succeeded */
static enum tx_code add_part(zip_t *z, struct db *db, const struct reportzip_req *q, int part,
                             time_t mtime, enum tx_code *first_rc)
{
    struct part_src *s = xcalloc(1, sizeof(*s));
    long long rows;
    int found;
    char name[256];
    enum tx_code rc;

    *s = (struct part_src){
        db, q->account_id, q->day,  part, 0, 0, 0, mtime, BUF_INIT(REPORTSTORE_CHUNK),
        0,  {0},           first_rc};
    zip_error_init(&s->err);
    rc = reportstore_part(db, q->account_id, q->day, part, &rows, &s->bytes, &s->chunks, &found);
    if (rc != TX_OK || !found) {
        zip_error_fini(&s->err);
        xfree(s);
        return rc != TX_OK ? rc : TX_REJECT_INPUT;
    }
    zip_source_t *src = zip_source_function(z, src_cb, s);
    if (src == NULL) {
        zip_error_fini(&s->err);
        xfree(s);
        return TX_FATAL_RESOURCE;
    }
    reportzip_name(name, sizeof(name), q->prefix, part, q->parts, "csv");
    if (zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        return TX_FATAL_RESOURCE;
    }
    return TX_OK;
}

enum tx_code reportzip_file(struct db *db, const struct reportzip_req *q, int *fd, off_t *size)
{
    char path[4096];
    enum tx_code rc = TX_OK, src_rc = TX_OK;
    int64_t start;
    zip_t *z = NULL;
    int tmp, zerr = 0;
    struct stat st;

    *fd = -1;
    if (reportrow_day(q->day, &start) < 0)
        return TX_REJECT_INPUT;
    snprintf(path, sizeof(path), "%s/txmail-report-XXXXXX", q->tmpdir);
    if ((tmp = mkstemp(path)) < 0) {
        msg_warn("report: cannot create a file in %s: %m", q->tmpdir);
        return TX_FATAL_RESOURCE;
    }
    close(tmp);
    if ((z = zip_open(path, ZIP_TRUNCATE, &zerr)) == NULL) {
        msg_warn("report: libzip cannot open %s (error %d)", path, zerr);
        rc = TX_FATAL_RESOURCE;
        goto out;
    }
    time_t mtime = (time_t)(start / 1000 + 86400);
    for (int p = q->first; p <= q->last && rc == TX_OK; p++)
        rc = add_part(z, db, q, p, mtime, &src_rc);
    if (rc != TX_OK) {
        zip_discard(z);
        goto out;
    }
    if (zip_close(z) < 0) {
        rc = src_rc != TX_OK ? src_rc : TX_FATAL_RESOURCE;
        if (rc == TX_FATAL_RESOURCE)
            msg_warn("report: cannot write %s: %s", path, zip_strerror(z));
        zip_discard(z);
        goto out;
    }
    if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(*fd, &st) < 0) {
        msg_warn("report: cannot reopen %s: %m", path);
        rc = TX_FATAL_RESOURCE;
        goto out;
    }
    *size = st.st_size;
out:
    unlink(path);
    if (rc != TX_OK && *fd >= 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}
