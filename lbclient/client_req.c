/* client_req: request slots, generations and the outcome state machine. */
#include "client_req.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_metrics.h"

#define CHUNK_BITS 12
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define MAX_CHUNKS (1u << 18) /* 2^30 slots at most */

void lb_creq_table_init(struct lb_creq_table *t) {
  memset(t, 0, sizeof(*t));
  t->free_head = LB_CREQ_NONE;
}

void lb_creq_table_close(struct lb_creq_table *t) {
  for (uint32_t i = 0; i < t->nchunks; i++)
    free(t->chunks[i]);
  free(t->chunks);
  lb_creq_table_init(t);
}

static struct lb_creq *at(const struct lb_creq_table *t, uint32_t slot) {
  return &t->chunks[slot >> CHUNK_BITS][slot & (CHUNK_SIZE - 1)];
}

struct lb_creq *lb_creq_at(const struct lb_creq_table *t, uint32_t slot) {
  return at(t, slot);
}

int lb_creq_new(struct lb_creq_table *t, bool is_probe, struct lb_creq **out) {
  uint32_t slot;
  if (t->free_head != LB_CREQ_NONE) {
    slot = t->free_head;
    t->free_head = at(t, slot)->next_free;
  } else {
    if ((t->used >> CHUNK_BITS) >= t->nchunks) {
      if (t->nchunks >= MAX_CHUNKS)
        return -ENOMEM;
      struct lb_creq **chunks = realloc(t->chunks, (t->nchunks + 1) * sizeof(*chunks));
      if (!chunks)
        return -ENOMEM;
      t->chunks = chunks;
      chunks[t->nchunks] = calloc(CHUNK_SIZE, sizeof(struct lb_creq));
      if (!chunks[t->nchunks])
        return -ENOMEM;
      t->nchunks++;
    }
    slot = t->used++;
    at(t, slot)->gen = 0;
  }
  struct lb_creq *r = at(t, slot);
  uint32_t gen = r->gen;
  memset(r, 0, sizeof(*r));
  r->slot = slot;
  r->gen = gen;
  r->state = LB_CREQ_PICKING;
  r->is_probe = is_probe;
  r->chan = -1;
  r->conn = -1;
  r->conn_prev = r->conn_next = r->owner_slot = LB_CREQ_NONE;
  r->next_free = LB_CREQ_NONE;
  t->counts.sent++;
  t->counts.live++;
  lb_client_metrics_sent(t->metrics, is_probe);
  if (is_probe)
    t->counts.probes++;
  *out = r;
  return 0;
}

int lb_creq_commit(struct lb_creq_table *t, struct lb_creq *r) {
  (void)t;
  if (r->state != LB_CREQ_PICKING)
    return -EINVAL;
  r->state = LB_CREQ_HOLDING;
  return 0;
}

int lb_creq_written(struct lb_creq_table *t, struct lb_creq *r) {
  (void)t;
  if (r->state != LB_CREQ_HOLDING)
    return -EINVAL;
  r->state = LB_CREQ_IN_FLIGHT;
  return 0;
}

int lb_creq_received(struct lb_creq_table *t, struct lb_creq *r) {
  (void)t;
  if (r->state != LB_CREQ_IN_FLIGHT)
    return -EINVAL;
  r->state = LB_CREQ_RECEIVING;
  return 0;
}

int lb_creq_end(struct lb_creq_table *t, struct lb_creq *r, enum lb_outcome outcome) {
  if (r->state == LB_CREQ_FREE)
    return -EINVAL;
  switch (outcome) {
  case LB_OUTCOME_COMPLETED:
    if (r->state != LB_CREQ_IN_FLIGHT && r->state != LB_CREQ_RECEIVING)
      return -EINVAL; /* only a written request can have an answer */
    t->counts.completed++;
    break;
  case LB_OUTCOME_FAILED:
    t->counts.failed++;
    break;
  case LB_OUTCOME_TIMED_OUT:
    t->counts.timed_out++;
    break;
  default:
    return -EINVAL;
  }
  t->counts.live--;
  lb_client_metrics_ended(t->metrics, r->is_probe, outcome, r->intended_ns);
  r->state = LB_CREQ_FREE;
  r->gen++;
  r->pick = NULL;
  r->watch = NULL;
  r->held = NULL;
  r->next_free = t->free_head;
  t->free_head = r->slot;
  return 0;
}

struct lb_creq *lb_creq_get(const struct lb_creq_table *t, uint32_t slot, uint32_t gen) {
  if (slot >= t->used)
    return NULL;
  struct lb_creq *r = at(t, slot);
  if (r->state == LB_CREQ_FREE || r->gen != gen)
    return NULL;
  return r;
}

uint64_t lb_creq_wire_id(const struct lb_creq *r) {
  return ((uint64_t)r->gen << 32) | r->slot;
}

struct lb_creq *lb_creq_by_wire_id(const struct lb_creq_table *t, uint64_t id) {
  return lb_creq_get(t, (uint32_t)(id & 0xffffffffu), (uint32_t)(id >> 32));
}

void lb_creq_foreach_live(struct lb_creq_table *t, void (*fn)(struct lb_creq *r, void *arg),
                          void *arg) {
  for (uint32_t s = 0; s < t->used; s++) {
    struct lb_creq *r = at(t, s);
    if (r->state != LB_CREQ_FREE)
      fn(r, arg);
  }
}
