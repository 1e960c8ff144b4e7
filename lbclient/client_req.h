/* client_req: the client's request table and the accounting state machine
 * every request and probe goes through:
 *
 *   PICKING --commit--> HOLDING --written--> IN_FLIGHT --received--> RECEIVING
 *      \                   \                    \                      \
 *       `------------------`--------------------`----------------------`--end--> (free)
 *                                             completed | failed | timed_out
 *
 * A request ends exactly once, from any live state, with one outcome; the
 * table counts outcomes so that at every moment
 *   sent == completed + failed + timed_out + live.
 * Slots are reused; a slot's generation changes on every reuse, and the wire
 * id is (generation << 32 | slot), so a late response or a stale timer for a
 * request that already ended is recognised and ignored. Pointers to records
 * stay valid while the record is live (records live in fixed chunks). */
#ifndef LB_CLIENT_REQ_H
#define LB_CLIENT_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include "reqlog.h"

enum lb_creq_state {
  LB_CREQ_FREE = 0,
  LB_CREQ_PICKING,
  LB_CREQ_HOLDING,   /* picked; held on the client for its send delay */
  LB_CREQ_IN_FLIGHT, /* written to the socket, awaiting the response */
  LB_CREQ_RECEIVING, /* answered; held on the client for its response delay */
};

struct lb_pick;
struct lb_probe;
struct lb_held_response;
struct lb_client_metrics;

struct lb_creq {
  uint32_t slot, gen;
  enum lb_creq_state state;
  bool is_probe;
  int client; /* index of the hosted client (driver's numbering) */
  int chan;   /* channel slot in the client's subset; -1 while picking */
  int conn;   /* driver's connection index; -1 until committed */
  int64_t intended_ns, pick_done_ns, hold_until_ns, written_ns;
  double send_delay_ticks, response_delay_ticks; /* the model's draws */
  struct lb_pick *pick;                          /* while picking */
  struct lb_probe *watch;                        /* a probe some pick watches, or NULL */
  struct lb_held_response *held;                 /* the driver's, while RECEIVING */
  uint32_t owner_slot, owner_gen;                /* that pick's request */
  uint32_t conn_prev, conn_next;                 /* driver's per-connection list */
  uint32_t next_free;
};

struct lb_creq_counts {
  long sent;   /* records created: requests and probes */
  long probes; /* of which probes */
  long completed, failed, timed_out;
  long live; /* created and not yet ended */
};

struct lb_creq_table {
  struct lb_creq **chunks;
  uint32_t nchunks, used; /* slots handed out so far */
  uint32_t free_head;     /* LB_CREQ_NONE when empty */
  struct lb_creq_counts counts;
  struct lb_client_metrics *metrics; /* counted there too (client_metrics.h); may be NULL */
};

#define LB_CREQ_NONE UINT32_MAX

void lb_creq_table_init(struct lb_creq_table *t);
void lb_creq_table_close(struct lb_creq_table *t);
/* A new live record in PICKING, counted as sent. 0 or -ENOMEM. */
int lb_creq_new(struct lb_creq_table *t, bool is_probe, struct lb_creq **out);
/* PICKING -> HOLDING; -EINVAL from any other state. */
int lb_creq_commit(struct lb_creq_table *t, struct lb_creq *r);
/* HOLDING -> IN_FLIGHT; -EINVAL from any other state. */
int lb_creq_written(struct lb_creq_table *t, struct lb_creq *r);
/* IN_FLIGHT -> RECEIVING; -EINVAL from any other state. */
int lb_creq_received(struct lb_creq_table *t, struct lb_creq *r);
/* Any live state -> free, counting the outcome; -EINVAL when not live. */
int lb_creq_end(struct lb_creq_table *t, struct lb_creq *r, enum lb_outcome outcome);
/* The live record with this slot and generation, or NULL. */
struct lb_creq *lb_creq_get(const struct lb_creq_table *t, uint32_t slot, uint32_t gen);
/* The record in this slot, live or not (slot < slots handed out). */
struct lb_creq *lb_creq_at(const struct lb_creq_table *t, uint32_t slot);
uint64_t lb_creq_wire_id(const struct lb_creq *r);
struct lb_creq *lb_creq_by_wire_id(const struct lb_creq_table *t, uint64_t id);
/* Visits every live record (the callback may end it). */
void lb_creq_foreach_live(struct lb_creq_table *t, void (*fn)(struct lb_creq *r, void *arg),
                          void *arg);

#endif
