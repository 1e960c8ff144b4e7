/* client_heap: a binary min-heap of absolute deadlines (CLOCK_MONOTONIC ns).
 * Every timed thing the client does (arrivals, tick boundaries, the end of a
 * request's send hold, timeouts) is one entry; the loop sleeps to the top
 * deadline with sub-millisecond precision. Entries are never removed early:
 * a timer that no longer matters is recognised by its owner when it fires
 * (generation check), which keeps push and pop O(log n) and the heap simple.
 * Ties fire in push order. */
#ifndef LB_CLIENT_HEAP_H
#define LB_CLIENT_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct lb_timer_entry {
  int64_t deadline_ns;
  uint64_t seq;  /* push order, breaks ties */
  int kind;      /* the owner's event type */
  uint32_t slot; /* the owner's object */
  uint32_t gen;  /* the owner's generation of that object */
};

struct lb_timer_heap {
  struct lb_timer_entry *items;
  size_t len, cap;
  uint64_t next_seq;
};

void lb_timer_heap_init(struct lb_timer_heap *h);
void lb_timer_heap_close(struct lb_timer_heap *h);
/* 0 or -ENOMEM. */
int lb_timer_heap_push(struct lb_timer_heap *h, int64_t deadline_ns, int kind, uint32_t slot,
                       uint32_t gen);
/* Earliest entry without removing it; NULL when empty. */
const struct lb_timer_entry *lb_timer_heap_peek(const struct lb_timer_heap *h);
/* Removes the earliest entry into *out: 1, or 0 when empty. */
int lb_timer_heap_pop(struct lb_timer_heap *h, struct lb_timer_entry *out);
/* Pops the earliest entry only if its deadline is <= now_ns. */
int lb_timer_heap_pop_due(struct lb_timer_heap *h, int64_t now_ns, struct lb_timer_entry *out);

#endif
