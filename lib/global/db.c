/* db - MariaDB wrapper; see db.h. */
#include "global/db.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"
#include "util/ttlcache.h"

#include <errmsg.h>
#include <mysql.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_MAX_PARAMS 64
#define DB_STMT_CACHE 64

/* the prepared statements of a connection, by SQL text (a MYSQL_STMT * each) */
static void stmt_close(void *v)
{
    mysql_stmt_close(*(MYSQL_STMT **)v);
}

static const struct ttlcache_type stmt_type = {sizeof(MYSQL_STMT *), NULL, stmt_close};

struct db {
    struct db_conf conf;
    MYSQL *my;
    int in_tx;
    unsigned err;
    char errtext[512];
    long long affected, insert_id;
    struct ttlcache *stmts;
};

struct db_res {
    size_t rows, cols, cap;
    char **vals; /* rows * cols */
    size_t *lens;
};

static void conf_copy(struct db_conf *dst, const struct db_conf *src)
{
    dst->socket = src->socket && *src->socket ? xstrdup(src->socket) : NULL;
    dst->host = xstrdup(src->host && *src->host ? src->host : "127.0.0.1");
    dst->port = src->port;
    dst->name = xstrdup(src->name ? src->name : "txmail");
    dst->user = xstrdup(src->user ? src->user : "txmail");
    dst->password = xstrdup(src->password ? src->password : "");
}

static void conf_free(struct db_conf *c)
{
    xfree((void *)c->socket);
    xfree((void *)c->host);
    xfree((void *)c->name);
    xfree((void *)c->user);
    xwipestr((char *)c->password);
}

static int do_connect(struct db *db)
{
    unsigned int timeout = 5;
    my_bool off = 0;

    db->my = mysql_init(NULL);
    mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(db->my, MYSQL_OPT_RECONNECT, &off);
    mysql_options(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db->my, db->conf.socket ? NULL : db->conf.host, db->conf.user,
                            db->conf.password, db->conf.name,
                            db->conf.socket ? 0 : (unsigned)db->conf.port, db->conf.socket,
                            CLIENT_FOUND_ROWS)) {
        msg_warn("database: cannot connect to %s: %s",
                 db->conf.socket ? db->conf.socket : db->conf.host, mysql_error(db->my));
        mysql_close(db->my);
        db->my = NULL;
        return -1;
    }
    mysql_query(db->my, "SET time_zone = '+00:00'");
    return 0;
}

struct db *db_open(const struct db_conf *conf)
{
    struct db *db = xcalloc(1, sizeof(*db));

    conf_copy(&db->conf, conf);
    db->stmts = ttlcache_create(&stmt_type, DB_STMT_CACHE, 0);
    if (do_connect(db) < 0) {
        db_close(db);
        return NULL;
    }
    return db;
}

struct db *db_open_retry(const struct db_conf *conf, int attempts)
{
    int64_t wait = 100;

    for (int i = 0; i < attempts; i++) {
        struct db *db = db_open(conf);
        if (db)
            return db;
        timeutil_sleep_ms(wait);
        wait = wait * 2 > 5000 ? 5000 : wait * 2;
    }
    return NULL;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    ttlcache_free(db->stmts); /* closes the statements: before their connection */
    if (db->my)
        mysql_close(db->my);
    conf_free(&db->conf);
    xfree(db);
}

/* the per-thread handles of db_thread(): closed by the key's destructor at thread exit */
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_key_free(void *p)
{
    db_close(p);
}

static void thread_setup(void)
{
    if (mysql_library_init(0, NULL, NULL) != 0)
        msg_fatal("database: cannot initialise the client library");
    if (pthread_key_create(&thread_key, thread_key_free) != 0)
        msg_fatal("database: cannot create the per-thread handle key");
}

struct db *db_thread(const struct db_conf *conf, int attempts)
{
    struct db *db;

    pthread_once(&thread_once, thread_setup);
    if ((db = pthread_getspecific(thread_key)) != NULL)
        return db;
    if ((db = attempts > 1 ? db_open_retry(conf, attempts) : db_open(conf)) != NULL)
        pthread_setspecific(thread_key, db);
    return db;
}

void db_thread_close(void)
{
    pthread_once(&thread_once, thread_setup);
    db_close(pthread_getspecific(thread_key));
    pthread_setspecific(thread_key, NULL);
}

static int lost(unsigned e)
{
    return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_SERVER_LOST_EXTENDED ||
           e == 1927 /* ER_CONNECTION_KILLED */ || e == 4031 /* client idle timeout */ ||
           e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR;
}

static enum tx_code classify(struct db *db, unsigned e, const char *text)
{
    db->err = e;
    snprintf(db->errtext, sizeof(db->errtext), "%s", text ? text : "");
    if (e == DB_ER_DUP_ENTRY)
        return TX_REJECT_INPUT;
    return TX_RETRY_DB;
}

static enum tx_code reconnect(struct db *db)
{
    ttlcache_clear(db->stmts);
    if (db->my) {
        mysql_close(db->my);
        db->my = NULL;
    }
    db->in_tx = 0;
    return do_connect(db) == 0 ? TX_OK : TX_RETRY_DB;
}

static MYSQL_STMT *prepare(struct db *db, const char *sql)
{
    MYSQL_STMT *st;

    if (ttlcache_get(db->stmts, sql, &st))
        return st;
    st = mysql_stmt_init(db->my);
    if (st == NULL)
        return NULL;
    if (mysql_stmt_prepare(st, sql, strlen(sql))) {
        db->err = mysql_stmt_errno(st);
        snprintf(db->errtext, sizeof(db->errtext), "%s", mysql_stmt_error(st));
        mysql_stmt_close(st);
        return NULL;
    }
    ttlcache_put(db->stmts, sql, &st, INT64_MAX);
    return st;
}

struct params {
    MYSQL_BIND bind[DB_MAX_PARAMS];
    long long ints[DB_MAX_PARAMS];
    unsigned long lens[DB_MAX_PARAMS];
    my_bool nulls[DB_MAX_PARAMS];
    int n;
};

static int bind_params(struct params *p, const char *types, va_list ap)
{
    memset(p->bind, 0, sizeof(p->bind));
    p->n = 0;
    for (const char *t = types ? types : ""; *t; t++) {
        MYSQL_BIND *b = &p->bind[p->n];

        if (p->n >= DB_MAX_PARAMS)
            msg_panic("db: too many parameters");
        switch (*t) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL) {
                b->buffer_type = MYSQL_TYPE_NULL;
            } else {
                b->buffer_type = MYSQL_TYPE_STRING;
                b->buffer = (void *)s;
                p->lens[p->n] = strlen(s);
                b->buffer_length = p->lens[p->n];
                b->length = &p->lens[p->n];
            }
            break;
        }
        case 'b': {
            const void *v = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            if (v == NULL) {
                b->buffer_type = MYSQL_TYPE_NULL;
            } else {
                b->buffer_type = MYSQL_TYPE_BLOB;
                b->buffer = (void *)v;
                p->lens[p->n] = len;
                b->buffer_length = len;
                b->length = &p->lens[p->n];
            }
            break;
        }
        case 'i':
            p->ints[p->n] = va_arg(ap, long long);
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = &p->ints[p->n];
            break;
        default:
            msg_panic("db: bad parameter type '%c'", *t);
        }
        p->n++;
    }
    return 0;
}

/* next_row - fetch the next row: 1 when there is one; 0 at the end or on an error (*rc set) */
static int next_row(struct db *db, MYSQL_STMT *st, enum tx_code *rc)
{
    int f = mysql_stmt_fetch(st);

    if (f == 1) {
        *rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
        return 0;
    }
    return f != MYSQL_NO_DATA;
}

/* fetch_all - read every row of an executed statement */
static enum tx_code fetch_all(struct db *db, MYSQL_STMT *st, struct db_res **out)
{
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    struct db_res *r;
    size_t cols;

    if (meta == NULL)
        return classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
    cols = mysql_num_fields(meta);
    mysql_free_result(meta);
    if (mysql_stmt_store_result(st))
        return classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
    r = xcalloc(1, sizeof(*r));
    r->cols = cols;
    MYSQL_BIND *b = xcalloc(cols ? cols : 1, sizeof(*b));
    unsigned long *lens = xcalloc(cols ? cols : 1, sizeof(*lens));
    my_bool *nulls = xcalloc(cols ? cols : 1, sizeof(*nulls));
    char dummy[1];
    for (size_t c = 0; c < cols; c++) {
        b[c].buffer_type = MYSQL_TYPE_STRING;
        b[c].buffer = dummy;
        b[c].buffer_length = 0;
        b[c].length = &lens[c];
        b[c].is_null = &nulls[c];
    }
    enum tx_code rc = TX_OK;
    if (mysql_stmt_bind_result(st, b)) {
        rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
        goto out;
    }
    while (next_row(db, st, &rc)) {
        if (r->rows == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 8;
            r->vals = xrealloc(r->vals, r->cap * cols * sizeof(char *));
            r->lens = xrealloc(r->lens, r->cap * cols * sizeof(size_t));
        }
        for (size_t c = 0; c < cols; c++) {
            size_t k = r->rows * cols + c;
            if (nulls[c]) {
                r->vals[k] = NULL;
                r->lens[k] = 0;
                continue;
            }
            char *v = xmalloc(lens[c] + 1);
            if (lens[c] > 0) {
                MYSQL_BIND one;
                memset(&one, 0, sizeof(one));
                one.buffer_type = MYSQL_TYPE_STRING;
                one.buffer = v;
                one.buffer_length = lens[c] + 1;
                if (mysql_stmt_fetch_column(st, &one, (unsigned)c, 0)) {
                    xfree(v);
                    rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
                    goto out;
                }
            }
            v[lens[c]] = 0;
            r->vals[k] = v;
            r->lens[k] = lens[c];
        }
        r->rows++;
    }
out:
    mysql_stmt_free_result(st);
    xfree(b);
    xfree(lens);
    xfree(nulls);
    if (rc != TX_OK) {
        db_res_free(r);
        return rc;
    }
    *out = r;
    return TX_OK;
}

/* the row callback of db_query_each */
struct each {
    db_row_fn fn;
    void *arg;
};

#define EACH_BUF 256 /* first buffer of each column; grown for longer values */

/*
 * each_fetch - fetch one truncated column again into a buffer large
 * enough for it; *grown tells the caller to bind the new buffers (the
 * library keeps a copy of the binds) before the next row.
 */
static int each_fetch(MYSQL_STMT *st, MYSQL_BIND *b, size_t c, size_t *caps, char **bufs,
                      const unsigned long *lens, int *grown)
{
    if (lens[c] < caps[c])
        return 0;
    caps[c] = lens[c] + 1;
    bufs[c] = xrealloc(bufs[c], caps[c]);
    b[c].buffer = bufs[c];
    b[c].buffer_length = caps[c];
    *grown = 1;
    return mysql_stmt_fetch_column(st, &b[c], (unsigned)c, 0) ? -1 : 0;
}

/* fetch_each - read an executed statement row by row (unbuffered) into e->fn */
static enum tx_code fetch_each(struct db *db, MYSQL_STMT *st, const struct each *e)
{
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    enum tx_code rc = TX_OK;
    size_t cols;

    if (meta == NULL)
        return classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
    cols = mysql_num_fields(meta);
    mysql_free_result(meta);
    size_t n = cols ? cols : 1;
    MYSQL_BIND *b = xcalloc(n, sizeof(*b));
    unsigned long *lens = xcalloc(n, sizeof(*lens));
    my_bool *nulls = xcalloc(n, sizeof(*nulls));
    size_t *caps = xcalloc(n, sizeof(*caps)), *vlens = xcalloc(n, sizeof(*vlens));
    char **bufs = xcalloc(n, sizeof(*bufs)), **vals = xcalloc(n, sizeof(*vals));
    for (size_t c = 0; c < cols; c++) {
        caps[c] = EACH_BUF;
        bufs[c] = xmalloc(caps[c]);
        b[c].buffer_type = MYSQL_TYPE_STRING;
        b[c].buffer = bufs[c];
        b[c].buffer_length = caps[c];
        b[c].length = &lens[c];
        b[c].is_null = &nulls[c];
    }
    if (mysql_stmt_bind_result(st, b)) {
        rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
        goto out;
    }
    while (next_row(db, st, &rc)) {
        int grown = 0;
        for (size_t c = 0; c < cols; c++) {
            if (nulls[c]) {
                vals[c] = NULL;
                vlens[c] = 0;
                continue;
            }
            if (each_fetch(st, b, c, caps, bufs, lens, &grown) < 0) {
                rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
                goto out;
            }
            bufs[c][lens[c]] = 0;
            vals[c] = bufs[c];
            vlens[c] = lens[c];
        }
        if (grown && mysql_stmt_bind_result(st, b)) {
            rc = classify(db, mysql_stmt_errno(st), mysql_stmt_error(st));
            goto out;
        }
        int stop = e->fn(e->arg, vals, vlens, cols);
        if (stop) {
            rc = (enum tx_code)stop;
            goto out;
        }
    }
out:
    mysql_stmt_free_result(st); /* reads and drops what is left of an unbuffered result */
    if (rc != TX_OK && lost(mysql_stmt_errno(st)))
        reconnect(db);
    for (size_t c = 0; c < cols; c++)
        xfree(bufs[c]);
    xfree(bufs);
    xfree(vals);
    xfree(caps);
    xfree(vlens);
    xfree(b);
    xfree(lens);
    xfree(nulls);
    return rc;
}

static enum tx_code run(struct db *db, struct db_res **res, const struct each *each,
                        const char *sql, const char *types, va_list ap)
{
    struct params p;
    enum tx_code rc = TX_RETRY_DB;

    bind_params(&p, types, ap);
    for (int attempt = 0; attempt < 2; attempt++) {
        MYSQL_STMT *st;

        db->err = 0;
        if (db->my == NULL && reconnect(db) != TX_OK)
            return TX_RETRY_DB;
        if ((st = prepare(db, sql)) == NULL) {
            unsigned e = db->err ? db->err : mysql_errno(db->my);
            if (lost(e) && !db->in_tx && attempt == 0 && reconnect(db) == TX_OK)
                continue;
            if (lost(e))
                reconnect(db);
            if (!lost(e))
                msg_warn("database: prepare failed: %u %s", e, db->errtext);
            return classify(db, e, db->errtext[0] ? db->errtext : mysql_error(db->my));
        }
        if ((unsigned long)p.n != mysql_stmt_param_count(st))
            msg_panic("db: statement wants %lu parameters, got %d: %s", mysql_stmt_param_count(st),
                      p.n, sql);
        if ((p.n && mysql_stmt_bind_param(st, p.bind)) || mysql_stmt_execute(st)) {
            unsigned e = mysql_stmt_errno(st);
            char text[512];
            snprintf(text, sizeof(text), "%s", mysql_stmt_error(st));
            if (lost(e)) {
                int was_tx = db->in_tx;
                reconnect(db);
                if (!was_tx && attempt == 0)
                    continue;
                return classify(db, e, text);
            }
            if (e == 1615 /* ER_NEED_REPREPARE */) {
                ttlcache_remove(db->stmts, sql);
                continue;
            }
            if (e != DB_ER_DUP_ENTRY && e != DB_ER_LOCK_DEADLOCK && e != DB_ER_LOCK_WAIT_TIMEOUT)
                msg_warn("database: %u %s", e, text);
            return classify(db, e, text);
        }
        db->affected = (long long)mysql_stmt_affected_rows(st);
        db->insert_id = (long long)mysql_stmt_insert_id(st);
        if (each)
            rc = fetch_each(db, st, each);
        else if (res)
            rc = fetch_all(db, st, res);
        else
            rc = TX_OK;
        return rc;
    }
    return rc;
}

enum tx_code db_exec(struct db *db, const char *sql, const char *types, ...)
{
    va_list ap;
    enum tx_code rc;

    va_start(ap, types);
    rc = run(db, NULL, NULL, sql, types, ap);
    va_end(ap);
    return rc;
}

enum tx_code db_query(struct db *db, struct db_res **res, const char *sql, const char *types, ...)
{
    va_list ap;
    enum tx_code rc;

    *res = NULL;
    va_start(ap, types);
    rc = run(db, res, NULL, sql, types, ap);
    va_end(ap);
    return rc;
}

enum tx_code db_query_each(struct db *db, db_row_fn fn, void *arg, const char *sql,
                           const char *types, ...)
{
    struct each e = {fn, arg};
    va_list ap;
    enum tx_code rc;

    va_start(ap, types);
    rc = run(db, NULL, &e, sql, types, ap);
    va_end(ap);
    return rc;
}

enum tx_code db_exec_raw(struct db *db, const char *sql)
{
    if (db->my == NULL && reconnect(db) != TX_OK)
        return TX_RETRY_DB;
    if (mysql_real_query(db->my, sql, strlen(sql))) {
        unsigned e = mysql_errno(db->my);
        enum tx_code rc = classify(db, e, mysql_error(db->my));
        if (lost(e))
            reconnect(db);
        return rc;
    }
    db->affected = (long long)mysql_affected_rows(db->my);
    /* drain any result sets of multi-statements */
    do {
        MYSQL_RES *r = mysql_store_result(db->my);
        if (r)
            mysql_free_result(r);
    } while (mysql_next_result(db->my) == 0);
    if (mysql_errno(db->my))
        return classify(db, mysql_errno(db->my), mysql_error(db->my));
    return TX_OK;
}

long long db_affected(const struct db *db)
{
    return db->affected;
}
long long db_insert_id(const struct db *db)
{
    return db->insert_id;
}
unsigned db_errno(const struct db *db)
{
    return db->err;
}
const char *db_error(const struct db *db)
{
    return db->errtext;
}

enum tx_code db_begin(struct db *db)
{
    if (db->my == NULL && reconnect(db) != TX_OK)
        return TX_RETRY_DB;
    if (mysql_query(db->my, "START TRANSACTION")) {
        unsigned e = mysql_errno(db->my);
        char text[512];

        snprintf(text, sizeof(text), "%s", mysql_error(db->my));
        if (lost(e) && reconnect(db) == TX_OK && mysql_query(db->my, "START TRANSACTION") == 0) {
            db->in_tx = 1;
            return TX_OK;
        }
        return classify(db, e, text);
    }
    db->in_tx = 1;
    return TX_OK;
}

enum tx_code db_commit(struct db *db)
{
    db->in_tx = 0;
    if (db->my == NULL)
        return TX_RETRY_DB;
    if (mysql_commit(db->my)) {
        unsigned e = mysql_errno(db->my);
        enum tx_code rc = classify(db, e, mysql_error(db->my));
        if (lost(e))
            reconnect(db);
        return rc;
    }
    return TX_OK;
}

void db_rollback(struct db *db)
{
    db->in_tx = 0;
    if (db->my && mysql_rollback(db->my) && lost(mysql_errno(db->my)))
        reconnect(db);
}

enum tx_code db_tx_run(struct db *db, int tries, enum tx_code (*fn)(struct db *, void *), void *arg)
{
    enum tx_code rc = TX_RETRY_DB;

    for (int i = 0; i < tries; i++) {
        if ((rc = db_begin(db)) != TX_OK) {
            timeutil_sleep_ms(50 << (i < 6 ? i : 6));
            continue;
        }
        rc = fn(db, arg);
        if (rc == TX_OK && (rc = db_commit(db)) == TX_OK)
            return TX_OK;
        if (db->in_tx)
            db_rollback(db);
        if (rc != TX_RETRY_DB)
            return rc;
        timeutil_sleep_ms(10 << (i < 6 ? i : 6));
    }
    return rc;
}

size_t db_res_rows(const struct db_res *r)
{
    return r->rows;
}
size_t db_res_cols(const struct db_res *r)
{
    return r->cols;
}

const char *db_res_get(const struct db_res *r, size_t row, size_t c)
{
    if (row >= r->rows || c >= r->cols)
        return NULL;
    return r->vals[row * r->cols + c];
}

size_t db_res_len(const struct db_res *r, size_t row, size_t c)
{
    if (row >= r->rows || c >= r->cols)
        return 0;
    return r->lens[row * r->cols + c];
}

long long db_res_int(const struct db_res *r, size_t row, size_t c, long long dflt)
{
    const char *v = db_res_get(r, row, c);
    char *end;

    if (v == NULL)
        return dflt;
    long long x = strtoll(v, &end, 10);
    return end == v ? dflt : x;
}

void db_res_free(struct db_res *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->rows * r->cols; i++)
        xfree(r->vals[i]);
    xfree(r->vals);
    xfree(r->lens);
    xfree(r);
}

int db_ident_ok(const char *s)
{
    if (*s == 0)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}
