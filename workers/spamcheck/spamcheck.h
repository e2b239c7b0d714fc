/*
 * spamcheck - txmail-spamcheck's shared declarations; the manual is
 * spamcheck.c.
 */
#ifndef TX_SPAMCHECK_H
#define TX_SPAMCHECK_H

#include "global/runtime/worker.h"

#include <stddef.h>
#include <stdint.h>

struct spamcheck_conf {
    char *spamd;          /* host:port[,host:port]... */
    int64_t connect_ms;   /* one connection attempt */
    int64_t timeout_ms;   /* the whole exchange with one spamd */
    size_t max_size;      /* bytes of a message sent to spamd */
    long long cache_size; /* blocks whose score is kept */
    int64_t cache_ttl_ms;
};

extern struct spamcheck_conf spamcheck_conf;

/* the default threshold of contract §16.4 */
#define SPAMCHECK_THRESHOLD 5.0

/* spamcheck_job_init - the per-block score cache (spamcheck_job.c); 0 */
int spamcheck_job_init(void);
/* spamcheck_job_done - free it */
void spamcheck_job_done(void);
/* spamcheck_job_handle - one type:"message" envelope (spamcheck_job.c) */
enum tx_code spamcheck_job_handle(struct job *job);
/*
 * spamcheck_job_scan_len - how many bytes of a message of len bytes go to
 * spamd: all of it up to max, else up to the last line end within max
 * (max itself when there is none)
 */
size_t spamcheck_job_scan_len(const char *raw, size_t len, size_t max);

#endif
