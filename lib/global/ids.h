/*
 * ids - job ids (UUID v7, time-ordered) and recipient ids
 * "<jobId>#<block 8 hex>#<address 8 hex>" (contract §5.2).
 */
#ifndef TX_IDS_H
#define TX_IDS_H

#include <stddef.h>
#include <stdint.h>

#define UUID_STR_LEN 36
#define RID_STR_LEN (UUID_STR_LEN + 18)

struct uuid {
    unsigned char b[16];
};

/* ids_uuid_v7 - new time-ordered UUID (RFC 9562) from the CSPRNG */
void ids_uuid_v7(struct uuid *u);
/* ids_uuid_v4 - new random UUID */
void ids_uuid_v4(struct uuid *u);
/* ids_uuid_format - lowercase 8-4-4-4-12 into out (>= 37 bytes) */
char *ids_uuid_format(char *out, const struct uuid *u);
/* ids_uuid_parse - accept only the lowercase or uppercase 8-4-4-4-12 form */
int ids_uuid_parse(struct uuid *u, const char *s);
/* ids_uuid_time_ms - the timestamp of a v7 UUID */
int64_t ids_uuid_time_ms(const struct uuid *u);

/* ids_rid_format - "<job>#%08x#%08x" into out (>= RID_STR_LEN + 1) */
char *ids_rid_format(char *out, const char *job_id, uint32_t block, uint32_t addr);
/* ids_rid_parse - split a recipient id; -1 when it is not of that shape */
int ids_rid_parse(const char *rid, struct uuid *job, uint32_t *block, uint32_t *addr);

/* ids_random_bytes - CSPRNG; dies when the kernel cannot supply randomness */
void ids_random_bytes(void *out, size_t len);

#endif
