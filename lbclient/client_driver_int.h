/* client_driver_int: the driver's state, shared by the three files that
 * carry it out: client_driver.c (timers, the run's phases, connections,
 * lb_client_run), client_pick.c (picks and probes, sending, finishing a
 * request) and client_setup.c (the hosted clients, their channels and
 * arrivals, freeing it all). Internal to lbclient's driver. */
#ifndef LB_CLIENT_DRIVER_INT_H
#define LB_CLIENT_DRIVER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "arrivals.h"
#include "board.h"
#include "channel.h"
#include "client_conn.h"
#include "client_driver.h"
#include "client_heap.h"
#include "client_logq.h"
#include "client_record.h"
#include "client_req.h"
#include "client_samples.h"
#include "pick_plan.h"
#include "picker.h"
#include "reset_mirror.h"
#include "rng.h"
#include "wire_check.h"

enum ev_kind {
  EV_START,
  EV_TICK,
  EV_ARRIVAL,
  EV_SEND,
  EV_RECEIVE,
  EV_TIMEOUT,
  EV_DRAIN,
  EV_DEADLINE
};

/* Lateness and overhead samples kept per list: past it a uniform reservoir
 * (client_samples.h). 65,536 put a p99 within a few hundredths of a
 * percentile and fill in seconds (timer wake-ups) to minutes, so a long
 * run's memory is flat after warm-up (bench/soak.sh): 2^20 grew a client
 * by 6 MiB over a 10-minute soak, 32 MiB at most. */
#define SAMPLES_MAX (1u << 16)
#define DRAIN_MAX_NS (5LL * 1000 * 1000 * 1000)
#define CONNECT_WAIT_NS (2LL * 1000 * 1000 * 1000)
#define SPIN_NS (20 * 1000)              /* spin rather than sleep for this little */
#define DISPATCH_BUDGET_NS (2000 * 1000) /* at most this long in one timer callback */

struct driver;

struct hosted {
  struct driver *d;
  int id; /* fleet-wide client index */
  int local;
  struct lb_rng *rng;
  int n;
  int *servers;
  struct lb_channel *chans;
  struct lb_channel **chptrs;
  struct lb_rng **chan_rng;
  int *chan_mirror; /* each channel's handle in the driver's reset mirror */
  int *chan_conn;
  struct lb_picker *picker;
  struct lb_pick_env env;
};

struct pick_box {
  struct lb_pick pick; /* first: a struct lb_pick * is a struct pick_box * */
  struct pick_box *next;
  struct lb_probe room[]; /* the driver's pick_room */
};

struct waiting {
  uint32_t slot, gen;
};

/* A response held on the client for its response delay (delay: inproc):
 * the seed's Channel.receive lowers the channel's rif when the server is
 * done, and the request completes receive_ticks later. */
struct lb_held_response {
  struct lb_held_response *next; /* free list */
  int64_t received_ns;
  uint64_t queue_ns, processing_ns, hold_ns;
  bool has_report;
  struct lb_server_report report;
};

struct driver {
  const struct lb_client_config *cfg;
  const struct lb_scenario *sc;
  struct lb_wire_limits wire; /* what a response's numbers may be */
  int64_t tick_ns, t0, started_ns, timeout_ns;
  int64_t arrival_lag_ns; /* arrivals are taken this long after their tick */
  bool channel_faults;    /* the scenario has delay or partition faults */
  bool started, arrivals_done, stopping, stopped;
  long tick;
  long end_tick;
  uv_loop_t loop;
  uv_poll_t tpoll;
  uv_prepare_t flusher; /* writes what the iteration's callbacks sent */
  int tfd;
  int64_t armed_ns;
  bool dispatching; /* in timer_cb: it arms once at its end */
  uv_signal_t sigterm, sigint;
  struct lb_timer_heap heap;
  struct lb_creq_table table;
  struct hosted *clients;
  int nclients;
  struct lb_conn *conns;
  int nconns, conns_up_once;
  struct lb_reset_mirror *mirror; /* the fleet's resets, replayed */
  struct lb_arrival *arrivals;
  size_t narrivals, next_arrival;
  struct waiting *waiting;
  size_t nwaiting, capwaiting;
  struct waiting *arriving; /* a tick's arrivals, picked after all their probes */
  size_t caparriving;
  struct lb_pick_plan plan; /* the picker, a top-level probing() split off (pick_plan.h) */
  struct pick_box *free_picks;
  int pick_room; /* probes a pick may watch: the most of any hosted picker */
  struct lb_held_response *free_held;
  struct lb_creq *picking;
  struct lb_record_clock clk;
  struct lb_samples timer_late, send_late, arrival_late, overhead;
  int64_t timer_late_max_ns, timer_late_max_deadline_ns; /* a stall's size and time */
  struct lb_logq *logq;
  struct lb_board *board;
  struct lb_server_report *oracle;
  bool *oracle_used;
  struct lb_client_result *res;
  int exit_rc;
  char *err;
  size_t errlen;
};

/* client_driver.c: timers, the run's end, connection callbacks. */
void lb__client_schedule(struct driver *d, int64_t deadline, int kind, uint32_t slot, uint32_t gen);
void lb__client_maybe_finish_run(struct driver *d);
void lb__client_on_conn_up(void *arg, struct lb_conn *c);
void lb__client_on_conn_down(void *arg, struct lb_conn *c, const char *reason);
void lb__client_on_conn_response(void *arg, struct lb_conn *c, const Lb__Response *resp);
void lb__client_on_conn_bad_response(void *arg, struct lb_conn *c, uint64_t id, const char *why);

/* client_pick.c: picks, sending, finishing. */
void lb__client_start_pick(struct driver *d, struct lb_creq *r);
void lb__client_resume_pick(struct driver *d, struct lb_creq *r);
void lb__client_write_request(struct driver *d, struct lb_creq *r);
void lb__client_conn_list_remove(struct driver *d, struct lb_creq *r);
void lb__client_finish(struct driver *d, struct lb_creq *r, enum lb_outcome outcome,
                       const Lb__Response *resp);
void lb__client_fail(struct driver *d, struct lb_creq *r, long *cause, enum lb_outcome outcome,
                     const Lb__Response *resp);
int lb__client_env_send_probe(void *driver, struct lb_channel *ch, struct lb_probe *watch);
void lb__client_env_unwatch_probe(void *driver, struct lb_probe *watch);

/* client_setup.c: building and freeing. */
int lb__client_setup_clients(struct driver *d);
int lb__client_setup_arrivals(struct driver *d);
void lb__client_free_driver(struct driver *d);

#endif
