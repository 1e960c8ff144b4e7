/* client_logq: hands request records from the timing loop to a writer
 * thread, so that logging never delays a timer. During the run the writer
 * only appends the records, as they are in memory, to an unlinked spill
 * file; they are formatted as CSV (several microseconds a record) when the
 * log closes, after the run, so the formatting takes no CPU from the
 * fleet while it keeps the model's schedule. The queue is bounded; when it
 * is full the loop waits for the writer (back-pressure, nothing is
 * dropped). */
#ifndef LB_CLIENT_LOGQ_H
#define LB_CLIENT_LOGQ_H

#include <stddef.h>
#include <stdio.h>

#include "reqlog.h"

struct lb_logq;

/* f stays owned by the caller; the writer thread is its only user until
 * lb_logq_close returns. */
int lb_logq_new(FILE *f, size_t capacity, struct lb_logq **out);
/* Queues a copy of rec. */
void lb_logq_push(struct lb_logq *q, const struct lb_request_record *rec);
/* Writes what is queued, stops the thread, formats every record to f in
 * the order pushed, frees q; returns the number of records that failed to
 * write. NULL is a no-op returning 0. */
long lb_logq_close(struct lb_logq *q);

#endif
