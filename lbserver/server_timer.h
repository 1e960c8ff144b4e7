/* server_timer: the server's one timing thread. It runs the accounting tick
 * on absolute deadlines (start + k * tick, drift-free; ticks it could not
 * keep are skipped and counted) and releases held responses (the egress
 * delay) from a min-heap of absolute deadlines. Timer slack is 1 ns; the
 * lateness of every tick and release is measured. libuv timers are whole
 * milliseconds, hence this thread. */
#ifndef LB_SERVER_TIMER_H
#define LB_SERVER_TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "server_lateness.h"

/* On the timer thread, no timer lock held. */
typedef void (*lb_server_tick_cb)(void *ctx, int64_t deadline_ns, int64_t now_ns);
typedef void (*lb_server_due_cb)(void *ctx, void *item);

struct lb_server_timer_config {
  int64_t tick_ns;  /* > 0 */
  int64_t start_ns; /* first tick at start + tick */
  int64_t wake_early_ns; /* sleep to this before a deadline, then spin to it */
  lb_server_tick_cb tick_cb;
  lb_server_due_cb due_cb;
  void *ctx;
};

struct lb_server_timer;

int lb_server_timer_new(const struct lb_server_timer_config *cfg, struct lb_server_timer **out);
/* Holds item until deadline_ns, then hands it to due_cb. Thread-safe. */
int lb_server_timer_add(struct lb_server_timer *t, int64_t deadline_ns, void *item);
size_t lb_server_timer_pending(struct lb_server_timer *t);
void lb_server_timer_lateness(struct lb_server_timer *t, struct lb_server_lateness *ticks,
                              struct lb_server_lateness *holds, uint64_t *ticks_skipped);
/* The tick a deadline falls in: (deadline - start) / tick. */
int64_t lb_server_timer_tick_of(const struct lb_server_timer *t, int64_t deadline_ns);
/* Stops the thread (no more ticks or releases); items added after this
 * are only held, for _free to drop. */
void lb_server_timer_stop(struct lb_server_timer *t);
/* Stops the thread; items still held go to drop (may be NULL). */
void lb_server_timer_free(struct lb_server_timer *t, void (*drop)(void *ctx, void *item));

#endif
