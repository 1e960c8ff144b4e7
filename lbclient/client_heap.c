/* client_heap: binary min-heap keyed by (deadline, push order). */
#include "client_heap.h"

#include <errno.h>
#include <stdlib.h>

void lb_timer_heap_init(struct lb_timer_heap *h) {
  h->items = NULL;
  h->len = h->cap = 0;
  h->next_seq = 0;
}

void lb_timer_heap_close(struct lb_timer_heap *h) {
  free(h->items);
  lb_timer_heap_init(h);
}

static int before(const struct lb_timer_entry *a, const struct lb_timer_entry *b) {
  if (a->deadline_ns != b->deadline_ns)
    return a->deadline_ns < b->deadline_ns;
  return a->seq < b->seq;
}

static void swap(struct lb_timer_entry *a, struct lb_timer_entry *b) {
  struct lb_timer_entry t = *a;
  *a = *b;
  *b = t;
}

int lb_timer_heap_push(struct lb_timer_heap *h, int64_t deadline_ns, int kind, uint32_t slot,
                       uint32_t gen) {
  if (h->len == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 256;
    struct lb_timer_entry *items = realloc(h->items, cap * sizeof(*items));
    if (!items)
      return -ENOMEM;
    h->items = items;
    h->cap = cap;
  }
  size_t i = h->len++;
  h->items[i] = (struct lb_timer_entry){
      .deadline_ns = deadline_ns, .seq = h->next_seq++, .kind = kind, .slot = slot, .gen = gen};
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!before(&h->items[i], &h->items[parent]))
      break;
    swap(&h->items[i], &h->items[parent]);
    i = parent;
  }
  return 0;
}

const struct lb_timer_entry *lb_timer_heap_peek(const struct lb_timer_heap *h) {
  return h->len ? &h->items[0] : NULL;
}

int lb_timer_heap_pop(struct lb_timer_heap *h, struct lb_timer_entry *out) {
  if (!h->len)
    return 0;
  *out = h->items[0];
  h->items[0] = h->items[--h->len];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->len && before(&h->items[l], &h->items[m]))
      m = l;
    if (r < h->len && before(&h->items[r], &h->items[m]))
      m = r;
    if (m == i)
      break;
    swap(&h->items[i], &h->items[m]);
    i = m;
  }
  return 1;
}

int lb_timer_heap_pop_due(struct lb_timer_heap *h, int64_t now_ns, struct lb_timer_entry *out) {
  if (!h->len || h->items[0].deadline_ns > now_ns)
    return 0;
  return lb_timer_heap_pop(h, out);
}
