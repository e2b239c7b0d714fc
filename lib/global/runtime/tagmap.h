/*
 * tagmap - acks of deliveries that were split into parts.
 *
 * A broker message may carry several events (a JSON array, see
 * docs/ENVELOPES.md). The consume loop hands each part to the program as
 * a delivery of its own with a local tag; the program acks local tags.
 * The broker message is acked once every one of its parts is: the map
 * turns local acks into broker acks, one multiple ack for a settled run
 * at the front, single acks for messages settled behind a part still in
 * hand (so one slow part never holds back the acks of later messages).
 *
 * Local tags ascend in the order of tagmap_add; broker tags must ascend
 * too (one channel). Single-threaded.
 */
#ifndef TX_TAGMAP_H
#define TX_TAGMAP_H

#include <stdint.h>

struct tagmap;

/* the broker acks to send: tag alone, or every tag up to it when multiple */
typedef void (*tagmap_ack_fn)(void *ctx, uint64_t broker_tag, int multiple);

struct tagmap *tagmap_new(tagmap_ack_fn fn, void *ctx);
void tagmap_free(struct tagmap *tm);
/* tagmap_reset - forget everything in hand (the channel was re-opened) */
void tagmap_reset(struct tagmap *tm);
/* tagmap_add - a broker message of nparts (>= 1) parts; its first local tag */
uint64_t tagmap_add(struct tagmap *tm, uint64_t broker_tag, int nparts);
/* tagmap_ack - one part settled (unknown or repeated tags are ignored) */
void tagmap_ack(struct tagmap *tm, uint64_t local_tag);
/* tagmap_ack_upto - every part up to and including local_tag settled */
void tagmap_ack_upto(struct tagmap *tm, uint64_t local_tag);
/* tagmap_pending - broker messages not yet acked */
int tagmap_pending(const struct tagmap *tm);

#endif
