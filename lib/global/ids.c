/* ids - UUIDs and recipient ids; see ids.h. */
#include "global/ids.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

void ids_random_bytes(void *out, size_t len)
{
    unsigned char *p = out;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            msg_fatal("getrandom: %m");
        }
        p += n;
        len -= (size_t)n;
    }
}

void ids_uuid_v7(struct uuid *u)
{
    uint64_t ms = (uint64_t)timeutil_now_ms();

    ids_random_bytes(u->b, sizeof(u->b));
    for (int i = 0; i < 6; i++)
        u->b[i] = (unsigned char)(ms >> (40 - 8 * i));
    u->b[6] = (u->b[6] & 0x0f) | 0x70;
    u->b[8] = (u->b[8] & 0x3f) | 0x80;
}

void ids_uuid_v4(struct uuid *u)
{
    ids_random_bytes(u->b, sizeof(u->b));
    u->b[6] = (u->b[6] & 0x0f) | 0x40;
    u->b[8] = (u->b[8] & 0x3f) | 0x80;
}

int64_t ids_uuid_time_ms(const struct uuid *u)
{
    int64_t ms = 0;

    for (int i = 0; i < 6; i++)
        ms = ms << 8 | u->b[i];
    return ms;
}

char *ids_uuid_format(char *out, const struct uuid *u)
{
    char hx[33];

    codec_hex_encode(hx, u->b, 16);
    snprintf(out, UUID_STR_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hx, hx + 8, hx + 12, hx + 16,
             hx + 20);
    return out;
}

int ids_uuid_parse(struct uuid *u, const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    unsigned char *o = u->b;

    for (int g = 0; g < 5; g++) {
        if (codec_hex_decode(o, s, groups[g] / 2) < 0)
            return -1;
        o += groups[g] / 2;
        s += groups[g];
        if (g < 4 && *s++ != '-')
            return -1;
    }
    return *s == 0 ? 0 : -1;
}

char *ids_rid_format(char *out, const char *job_id, uint32_t block, uint32_t addr)
{
    snprintf(out, RID_STR_LEN + 1, "%.36s#%08x#%08x", job_id, block, addr);
    return out;
}

int ids_rid_parse(const char *rid, struct uuid *job, uint32_t *block, uint32_t *addr)
{
    char jid[UUID_STR_LEN + 1];
    unsigned char b[4], a[4];

    if (strlen(rid) != RID_STR_LEN || rid[36] != '#' || rid[45] != '#')
        return -1;
    memcpy(jid, rid, 36);
    jid[36] = 0;
    if (ids_uuid_parse(job, jid) < 0 || codec_hex_decode(b, rid + 37, 4) < 0 ||
        codec_hex_decode(a, rid + 46, 4) < 0)
        return -1;
    for (int i = 0; i < 8; i++) /* ids use lowercase hex */
        if ((rid[37 + i] >= 'A' && rid[37 + i] <= 'F') ||
            (rid[46 + i] >= 'A' && rid[46 + i] <= 'F'))
            return -1;
    *block = (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
    *addr = (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
    return 0;
}
