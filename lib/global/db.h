/*
 * db - the only module that talks to MariaDB Connector/C.
 *
 * Prepared statements only (cached per connection by SQL text). Values
 * are bound with a type string:
 *
 *   's'  const char *            (NULL pointer binds SQL NULL)
 *   'b'  const void *, size_t    blob / string with length
 *   'i'  long long
 *
 * Errors come back as txmail codes: a lost connection is reconnected and
 * the statement retried once when no transaction is open; deadlocks and
 * lock wait timeouts are TX_RETRY_DB (retry the whole transaction with
 * db_tx_run); duplicate keys are reported through db_errno() ==
 * DB_ER_DUP_ENTRY with TX_REJECT_INPUT; anything else is TX_RETRY_DB.
 *
 * A result is fully read into memory; every value is text (NULL
 * pointer for SQL NULL). Not thread-safe: one struct db per thread.
 */
#ifndef TX_DB_H
#define TX_DB_H

#include "global/txcode.h"

#include <stddef.h>

#define DB_ER_DUP_ENTRY 1062
#define DB_ER_LOCK_DEADLOCK 1213
#define DB_ER_LOCK_WAIT_TIMEOUT 1205

struct db;
struct db_res;

struct db_conf {
    const char *socket; /* unix socket, preferred when set */
    const char *host;
    int port;
    const char *name;
    const char *user;
    const char *password;
};

/* db_open - connect; NULL (and a warning) on failure */
struct db *db_open(const struct db_conf *conf);
struct db *db_open_retry(const struct db_conf *conf, int attempts);
void db_close(struct db *db);
/*
 * db_thread - the calling thread's own handle, the one the skeletons
 * hand to their programs (worker.h worker_job_db(), batchloop.h batchloop_db()).
 * Connected on the first call (up to attempts tries, as db_open_retry);
 * NULL (warned) while the database cannot be reached, and the next call
 * tries again. Once open, a lost connection is reconnected by the next
 * statement (above). The client library is initialised once, whichever
 * thread comes first. Ownership: borrowed; closed when the thread exits,
 * or by db_thread_close().
 */
struct db *db_thread(const struct db_conf *conf, int attempts);
/* db_thread_close - close the calling thread's handle (the main thread: at the end) */
void db_thread_close(void);

enum tx_code db_exec(struct db *db, const char *sql, const char *types, ...);
/* db_query - run a SELECT; *res is new (db_res_free) on TX_OK */
enum tx_code db_query(struct db *db, struct db_res **res, const char *sql, const char *types, ...);
/*
 * db_query_each - run a SELECT and hand each row to fn as it arrives
 * (unbuffered fetch: memory is one row, whatever the result's size).
 * vals[c] / lens[c] follow db_res's rules (text, NULL pointer for SQL
 * NULL) and are borrowed until fn returns. fn returns 0 to go on, or
 * non-zero to stop: db_query_each then returns that code (a tx_code).
 * The connection runs nothing else until the result is read, so fn
 * must use another struct db. A lost connection is not retried once a
 * row was handed out.
 */
typedef int (*db_row_fn)(void *arg, char **vals, const size_t *lens, size_t cols);
enum tx_code db_query_each(struct db *db, db_row_fn fn, void *arg, const char *sql,
                           const char *types, ...);
/* db_exec_raw - run SQL text without parameters (DDL, migrations) */
enum tx_code db_exec_raw(struct db *db, const char *sql);

long long db_affected(const struct db *db);
long long db_insert_id(const struct db *db);
unsigned db_errno(const struct db *db);
const char *db_error(const struct db *db);

enum tx_code db_begin(struct db *db);
enum tx_code db_commit(struct db *db);
void db_rollback(struct db *db);
/*
 * db_tx_run - run fn inside a transaction, retrying the whole of it on
 * deadlock, lock timeout or a reconnect (up to tries times).
 */
enum tx_code db_tx_run(struct db *db, int tries, enum tx_code (*fn)(struct db *, void *),
                       void *arg);

size_t db_res_rows(const struct db_res *res);
size_t db_res_cols(const struct db_res *res);
/* db_res_get - value of row r, column c; NULL for SQL NULL. Borrowed until db_res_free. */
const char *db_res_get(const struct db_res *res, size_t r, size_t c);
size_t db_res_len(const struct db_res *res, size_t r, size_t c);
long long db_res_int(const struct db_res *res, size_t r, size_t c, long long dflt);
void db_res_free(struct db_res *res);

/* db_escape_ident - 1 when s is a safe SQL identifier ([A-Za-z0-9_]+) */
int db_ident_ok(const char *s);

#endif
