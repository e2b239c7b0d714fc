/* recorder - internal interfaces of txmail-recorder (see recorder.c). */
#ifndef TX_RECORDER_H
#define TX_RECORDER_H

#include "global/db.h"
#include "global/runtime/mq.h"

#include <jansson.h>
#include <stdint.h>

/* ---- parameters (recorder.c) ------------------------------------------- */
struct recorder_conf {
    long long batch_max;
    int64_t flush_interval;
    int64_t orphan_wait;
    int log_events;
};
extern struct recorder_conf recorder_conf;

/* ---- one delivery in hand ---------------------------------------------- */
enum rec_kind { REC_INTAKE, REC_EVENT, REC_IGNORE };

struct rec_item {
    struct mq_delivery dlv;
    unsigned epoch;
    enum rec_kind kind;
    json_t *doc; /* the record or event (owned) */
    int64_t arrived_mono;
    int64_t tried_mono; /* orphans: last attempt */
    int orphan;         /* set by the transaction: no message row, no account */
    int inserted;       /* set by the transaction: a new event row */
    int again;          /* split batch: still to do */
    struct rec_item *next;
};

/*
 * recorder_parse - decode and check one delivery. 0 with kind and doc
 * set, or -1 with the reason (the delivery goes to the dead letters).
 */
int recorder_parse(struct rec_item *it, char *err, size_t errsz);

/* ---- the current state of one message (recorder_state.c) ---------------- */
struct rec_msgstate {
    int have; /* last_* is set */
    char phase[17], state[17], type[25], subtype[33];
    int64_t ts_ms;
    int64_t final_ms; /* 0: no final state */
    char smtp_code[4];
    long long size;
    long long deferrals;
    int64_t trace_until_ms; /* 0: none */
};

struct rec_evinfo {
    const char *phase, *state, *type, *subtype;
    int64_t ts_ms;
    const char *smtp_code; /* or NULL */
    long long size;        /* -1: none */
    const char *event_key;
    const char *description; /* or NULL */
};

/* recorder_state_is_delivery - the event counts for last_* (contract §12.1) */
int recorder_state_is_delivery(const char *phase, const char *type);
/*
 * recorder_state_apply - fold one event into s: a final state is never
 * left, the earliest final wins, an older event arriving late never
 * replaces a newer one. Returns 1 when s changed.
 */
int recorder_state_apply(struct rec_msgstate *s, const struct rec_evinfo *e);

/* ---- suppression entries (recorder_state.c) ----------------------------- */
struct rec_supp {
    int exists;
    char type[25];
    int64_t created_ms;
    int64_t expires_ms;      /* -1: without end */
    long long lifetime_s;    /* -1: NULL */
    int64_t last_attempt_ms; /* 0: none */
};

/* recorder_state_supp_rank - 1..4 for the four types, 0 for anything else */
int recorder_state_supp_rank(const char *type);
/*
 * recorder_state_supp_merge - apply an x.suppress of type / lifetime_s (-1:
 * without end) at ts to cur. Returns 1 when cur changed (write it), and
 * sets *replaced when the entry was created or replaced as a whole
 * (reason and rid then come from the event).
 */
int recorder_state_supp_merge(struct rec_supp *cur, const char *type, long long lifetime_s,
                              int64_t ts_ms, int *replaced);
/* recorder_state_supp_touch - a blocked attempt at ts (x.suppressTouch). 1 when cur changed. */
int recorder_state_supp_touch(struct rec_supp *cur, int64_t ts_ms);

/* ---- the transaction (recorder_db.c) ------------------------------------ */
struct rec_stats {
    long long intake_rows, events_new, events_dup, state_updates, suppress_writes, orphans;
};

/*
 * recorder_db_batch - write items[0..n) in the current transaction
 * (called through db_tx_run). Sets it->orphan for events that can be
 * neither completed nor recorded yet.
 */
enum tx_code recorder_db_batch(struct db *db, struct rec_item **items, int n, struct rec_stats *st);
/* recorder_db_data_error - the error is the data's fault, not the database's */
int recorder_db_data_error(unsigned err);

#endif
