/*
 * evbatch - the event-batch wire format (docs/ENVELOPES.md): one broker
 * message on txmail.events carries one event (a JSON object) or several
 * events of the same routing key (a JSON array of objects, at most
 * EVBATCH_PARTS_MAX). A batch of one is always sent as the object itself.
 *
 * Encoded by the worker skeleton (worker_job_event, events of one job and of the
 * jobs settled together) and txmail-track (events of a publishing batch);
 * decoded by the broker runtime (batchloop.h) for txmail-recorder and
 * txmail-notify, which see each event as a delivery of its own.
 */
#ifndef TX_EVBATCH_H
#define TX_EVBATCH_H

#include <jansson.h>
#include <stddef.h>

#define EVBATCH_PARTS_MAX 10000 /* events in one broker message */

/*
 * evbatch_join - append the message add (one event, or an array of
 * addparts events) to the message *body of *parts events:
 * "{a}" + "{b}" -> "[{a},{b}]", "[...]" + "[{c},{d}]" -> "[...,{c},{d}]".
 * *body is reallocated (xmalloc'd, NUL-terminated).
 */
void evbatch_join(char **body, size_t *len, int *parts, const char *add, size_t addlen,
                  int addparts);
/*
 * evbatch_split - the events of a message that is a batch: its array
 * (owned by the caller) when body is a JSON array of 1 to
 * EVBATCH_PARTS_MAX objects, else NULL (one event, or not a batch: the
 * message goes on as it came).
 */
json_t *evbatch_split(const void *body, size_t len);

#endif
