/* sim engine: per-tick traces of tiny fleets with fixed draws, checked
 * against values worked out by hand from the seed's TestManager, Server,
 * Channel, Client and Request (the working is in each test's comment). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "scenario.h"
#include "sim_engine.h"
#include "pick_plan.h"

#define MAX_RECORDS 64

/* Fixed draws: processing, send and receive ticks per server / channel,
 * resets at chosen server ticks. */
struct fixed {
  int processing;
  int send[4], receive[4]; /* by channel (client * subset + slot) */
  int threads, threads_after_reset;
  int reset_on_server_tick; /* -1: never */
  int server_draws;         /* server reset draws so far (one per server tick) */
  int subset[4];
  bool times; /* use probe_time and cold_penalty below, not the defaults */
  double probe_time, cold_penalty;
  struct lb_request_record rec[MAX_RECORDS];
  int nrec;
  const char *set[4]; /* scenario fields, "name=value", set before the run */
};

static int fixed_gamma(void *ctx, enum sim_draw what, int entity, double mean) {
  struct fixed *f = ctx;
  (void)mean;
  switch (what) {
  case SIM_DRAW_PROCESSING:
    return f->processing;
  case SIM_DRAW_SEND:
    return f->send[entity];
  case SIM_DRAW_RECEIVE:
    return f->receive[entity];
  default:
    return 1;
  }
}

static double fixed_uniform(void *ctx, enum sim_draw what, int entity) {
  struct fixed *f = ctx;
  (void)entity;
  if (what == SIM_DRAW_SERVER_RESET)
    return f->server_draws++ == f->reset_on_server_tick ? 0.0 : 1.0;
  return 1.0;
}

static void fixed_server(void *ctx, int server, bool reset, struct lb_server_params *p) {
  struct fixed *f = ctx;
  (void)server;
  p->threads = reset ? f->threads_after_reset : f->threads;
  p->mean_processing_time = f->processing;
  p->mean_rtt = 2;
}

static double fixed_channel(void *ctx, int client, int slot, int server) {
  (void)ctx, (void)client, (void)slot, (void)server;
  return 2.0;
}

static void fixed_subset(void *ctx, int client, int *servers, int n) {
  struct fixed *f = ctx;
  (void)client;
  for (int i = 0; i < n; i++)
    servers[i] = f->subset[i];
}

static void keep_record(void *ctx, const struct lb_request_record *rec) {
  struct fixed *f = ctx;
  if (f->nrec < MAX_RECORDS)
    f->rec[f->nrec++] = *rec;
}

struct rig {
  struct lb_scenario sc;
  struct lb_pick_plan plan;
  struct lb_arrival items[16];
  struct lb_arrivals arrivals;
  struct sim_hooks hooks;
  struct sim_run *run;
};

static void rig_open(struct rig *g, struct fixed *f, const char *picker, int servers, int subset,
                     const double *ticks, int narrivals) {
  char err[1024] = "";
  memset(g, 0, sizeof(*g));
  lb_scenario_defaults(&g->sc);
  snprintf(g->sc.name, sizeof(g->sc.name), "tiny");
  snprintf(g->sc.picker, sizeof(g->sc.picker), "%s", picker);
  g->sc.servers = servers;
  g->sc.clients = 1;
  g->sc.subset_size = subset;
  g->sc.total_ticks = 20;
  g->sc.cold_channel_penalty = f->times ? f->cold_penalty : 2;
  if (f->times)
    g->sc.probe_processing_time = f->probe_time;
  g->sc.data_frequency = 1;
  for (int i = 0; i < 4 && f->set[i] != NULL; i++) {
    char name[64];
    const char *eq = strchr(f->set[i], '=');
    assert_non_null(eq);
    snprintf(name, sizeof(name), "%.*s", (int)(eq - f->set[i]), f->set[i]);
    if (lb_scenario_set(&g->sc, name, eq + 1, err, sizeof(err)) != 0 ||
        lb_scenario_finish(&g->sc, err, sizeof(err)) != 0)
      fail_msg("%s: %s", f->set[i], err);
  }
  assert_int_equal(lb_pick_plan_init(&g->plan, picker, true, "test", err, sizeof(err)), 0);
  for (int i = 0; i < narrivals; i++)
    g->items[i] = (struct lb_arrival){.tick = ticks[i], .client = 0};
  g->arrivals.items = g->items;
  g->arrivals.n = (size_t)narrivals;
  g->hooks = (struct sim_hooks){.ctx = f,
                                .gamma = fixed_gamma,
                                .uniform = fixed_uniform,
                                .server_params = fixed_server,
                                .channel_mean = fixed_channel,
                                .subset = fixed_subset};
  struct sim_options opt = {.plan = &g->plan,
                            .arrivals = &g->arrivals,
                            .hooks = &g->hooks,
                            .on_record = keep_record,
                            .on_record_ctx = f};
  int rc = sim_run_new(&g->sc, 0, &opt, &g->run, err, sizeof(err));
  if (rc != 0)
    fail_msg("sim_run_new: %s", err);
}

static void rig_close(struct rig *g) {
  sim_run_free(g->run);
  lb_pick_plan_close(&g->plan);
}

static void step(struct rig *g) {
  char err[1024] = "";
  bool done = false;
  int rc = sim_run_step(g->run, &done, err, sizeof(err));
  if (rc != 0)
    fail_msg("sim_run_step: %s", err);
  assert_false(done);
}

static void step_to(struct rig *g, int tick) {
  while (sim_run_tick(g->run) < tick)
    step(g);
}

static const struct lb_request_record *find(const struct fixed *f, bool probe, double started,
                                            int nth) {
  for (int i = 0; i < f->nrec; i++)
    if (f->rec[i].is_probe == probe && f->rec[i].started_on_tick == started && nth-- == 0)
      return &f->rec[i];
  fail_msg("no record (probe %d, started %g)", probe, started);
  return NULL;
}

static void check_ticks(const struct lb_request_record *r, int pick, int send, int queue, int proc,
                        int recv) {
  assert_int_equal((int)r->picking_ticks, pick);
  assert_int_equal((int)r->send_ticks, send);
  assert_int_equal((int)r->server_queue_ticks, queue);
  assert_int_equal((int)r->processing_ticks, proc);
  assert_int_equal((int)r->receive_ticks, recv);
  assert_int_equal((int)r->total_ticks, pick + send + queue + proc + recv);
}

/* One server of one thread, one client; send 2, processing 3 (+2 cold),
 * receive 1; A and B arrive at tick 0, C at tick 5; total_ticks 20, so
 * warm_period = int(min((2+2+6)*3, 20/2)) = 10.
 *  t0: A, B pick (PICKING 1) and are sent (SENDING 2); channel ticks: left 1.
 *      Server record: utilization 0, no other server has data: pid 0.
 *  t1: server: utilization.mean() of itself (0) -> target 10, PID(0, 10):
 *      10 + 10/50 + 5*10 = 60.2. Channel: A, B enqueued (queries 2).
 *  t2: A dequeued, cold: 3 + 2 = 5; B queued. Record: utilization 100,
 *      queries 2, rif 2, queued 1; PID(100, 10): -90 - 80/50 + 5*-100 =
 *      -591.6 -> weight -531.4.
 *  t5: C sent (client rif 3).
 *  t6: A's 5th processing tick: received (rif 2), latency 0 + 5 = 5 (A
 *      was dequeued at t2 before the queue ticked); C enqueued; A completes
 *      (RECEIVING 1): 1+2+0+5+1 = 9 ticks.
 *  t7: B dequeued, warm: 3. t9: B done, completes: 1+2+5+3+1 = 12.
 * t10: C dequeued. t12: C completes (stage RUNNING): 1+2+3+3+1 = 10.
 * Cooldown: no client has requests in flight: the run ends at tick 20. */
static void test_trace_one_thread(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 1,
                    .reset_on_server_tick = -1};
  struct rig g;
  double ticks[] = {0, 0, 5};
  rig_open(&g, &f, "random", 1, 1, ticks, 3);
  assert_int_equal(sim_run_warm_period(g.run), 10);

  step(&g); /* t0 */
  const struct lb_server_report *rep = sim_run_server_report(g.run, 0);
  assert_true(rep->utilization.valid);
  assert_float_equal(rep->utilization.latest, 0, 1e-12);
  assert_float_equal(rep->pid_weight, 0, 1e-12);
  assert_int_equal(sim_run_client_rif(g.run, 0), 2);
  assert_int_equal(sim_run_client_pending(g.run, 0), 0);

  step(&g); /* t1 */
  assert_float_equal(rep->pid_weight, 60.2, 1e-9);
  assert_int_equal(sim_run_server_queued(g.run, 0), 2);

  step(&g); /* t2 */
  assert_float_equal(rep->utilization.latest, 100, 1e-12);
  assert_float_equal(rep->queries_per_tick.latest, 2, 1e-12);
  assert_float_equal(rep->requests_in_flight.latest, 2, 1e-12);
  assert_float_equal(rep->queued_requests.latest, 1, 1e-12);
  assert_float_equal(rep->pid_weight, 60.2 - 591.6, 1e-9);
  assert_false(rep->latency.valid);
  assert_int_equal(sim_run_server_processing(g.run, 0), 1);

  step_to(&g, 6); /* t5 done: C sent */
  assert_int_equal(sim_run_client_rif(g.run, 0), 3);
  assert_int_equal(f.nrec, 0);
  step(&g); /* t6 */
  assert_int_equal(f.nrec, 1);
  assert_float_equal(rep->latency.latest, 5, 1e-12);
  assert_float_equal(rep->requests_in_flight.latest, 1, 1e-12); /* B queued */
  const struct lb_request_record *a = &f.rec[0];
  assert_int_equal(a->stage, LB_STAGE_WARMING);
  assert_int_equal((int)a->started_on_tick, 0);
  assert_int_equal((int)a->completed_on_tick, 6);
  assert_int_equal((int)a->tick_at_send, 0);
  assert_int_equal((int)a->tick_at_server_queue, 1);
  assert_int_equal((int)a->tick_at_processing, 2);
  assert_int_equal((int)a->tick_at_receive, 6);
  assert_int_equal((int)a->tick_at_completion, 6);
  check_ticks(a, 1, 2, 0, 5, 1);
  /* A's report: the server's state before tick 6's record (ticks 0..5). */
  assert_true(a->has_report);
  assert_float_equal(a->report.utilization.latest, 100, 1e-12);
  assert_float_equal(a->report.utilization.mean, 400.0 / 6, 1e-9);
  assert_false(a->report.latency.valid);
  struct lb_channel *ch = sim_run_channel(g.run, 0, 0);
  assert_int_equal(ch->requests_in_flight, 2); /* B and C */
  assert_true(ch->has_report);
  assert_int_equal((int)lb_window_len(&ch->latency), 1);

  bool done = false;
  char err[256];
  while (!done)
    assert_int_equal(sim_run_step(g.run, &done, err, sizeof(err)), 0);
  assert_int_equal(sim_run_tick(g.run), 20);
  assert_false(sim_run_cooldown_failed(g.run));
  assert_int_equal(f.nrec, 3);
  const struct lb_request_record *b = &f.rec[1], *c = &f.rec[2];
  assert_int_equal((int)b->completed_on_tick, 9);
  assert_int_equal((int)b->tick_at_processing, 7);
  check_ticks(b, 1, 2, 5, 3, 1);
  assert_int_equal(b->stage, LB_STAGE_WARMING);
  assert_float_equal(b->report.latency.latest, 5, 1e-12);
  assert_int_equal((int)c->started_on_tick, 5);
  assert_int_equal((int)c->completed_on_tick, 12);
  assert_int_equal((int)c->tick_at_server_queue, 6);
  check_ticks(c, 1, 2, 3, 3, 1);
  assert_int_equal(c->stage, LB_STAGE_RUNNING);

  /* The seed's summary: non-probes not WARMING: C alone. */
  struct lb_summary s;
  assert_int_equal(sim_run_summary(g.run, &s), 0);
  assert_float_equal(s.mean_latency, 10, 1e-12);
  assert_int_equal((int)s.completed, 3);
  rig_close(&g);
}

/* A server reset demotes the requests beyond its new thread count to the
 * FRONT of the queue, one insert(0) at a time (so in reverse), and forgets
 * its warm channels. Three threads, then one from the reset at server tick 3.
 *  t1: A, B, C, D enqueued.  t2: A (cold: 5), B (3), C (3) dequeued.
 *  t3: reset: threads 1, processing [A], queue [C, B, D]; the report is
 *      empty, so no PID (no server has data): weight 0; utilization 100.
 *  t6: A done.  t7: C dequeued, cold again: 5 -> done t11 (queue 4 ticks,
 *      processing 1 + 5).  t12: B (warm) -> t14.  t15: D -> t17. */
/* completion_seen: next_tick: test_trace_one_thread's run, but the client
 * learns in tick 7 that A finished in tick 6, as a real client whose
 * server ends A's last processing tick at its end: tick 6's picks still
 * count A; A's own record is the same. */
static void test_completion_seen_next_tick(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 1,
                    .reset_on_server_tick = -1, .set = {"completion_seen=next_tick"}};
  struct rig g;
  double ticks[] = {0, 0, 5};
  rig_open(&g, &f, "random", 1, 1, ticks, 3);
  step_to(&g, 7); /* t6 done: A completed in its Server.tick */
  assert_int_equal(f.nrec, 1);
  check_ticks(&f.rec[0], 1, 2, 0, 5, 1);
  struct lb_channel *ch = sim_run_channel(g.run, 0, 0);
  assert_int_equal(ch->requests_in_flight, 3); /* A still counted */
  assert_int_equal(sim_run_client_rif(g.run, 0), 3);
  step(&g); /* t7 */
  assert_int_equal(ch->requests_in_flight, 2); /* B and C */
  bool done = false;
  char err[256];
  while (!done)
    assert_int_equal(sim_run_step(g.run, &done, err, sizeof(err)), 0);
  assert_int_equal(f.nrec, 3);
  assert_int_equal(sim_run_client_rif(g.run, 0), 0);
  rig_close(&g);
}

static void test_reset_demotes_to_front(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 3,
                    .threads_after_reset = 1, .reset_on_server_tick = 3};
  struct rig g;
  double ticks[] = {0, 0, 0, 0};
  rig_open(&g, &f, "random", 1, 1, ticks, 4);
  step_to(&g, 3);
  assert_int_equal(sim_run_server_processing(g.run, 0), 3);
  assert_int_equal(sim_run_server_queued(g.run, 0), 1);
  step(&g); /* t3 */
  assert_int_equal(sim_run_server_params(g.run, 0)->threads, 1);
  assert_int_equal(sim_run_server_processing(g.run, 0), 1);
  assert_int_equal(sim_run_server_queued(g.run, 0), 3);
  const struct lb_server_report *rep = sim_run_server_report(g.run, 0);
  assert_float_equal(rep->pid_weight, 0, 1e-12);
  assert_float_equal(rep->utilization.latest, 100, 1e-12);
  assert_float_equal(rep->utilization.mean, 100, 1e-12); /* one value since the reset */
  char err[256];
  assert_int_equal(sim_run_execute(g.run, err, sizeof(err)), 0);
  assert_int_equal(f.nrec, 4);
  /* Completion order A, C, B, D. */
  assert_int_equal((int)f.rec[0].completed_on_tick, 6);
  check_ticks(&f.rec[0], 1, 2, 0, 5, 1);
  assert_int_equal((int)f.rec[1].completed_on_tick, 11);
  check_ticks(&f.rec[1], 1, 2, 4, 6, 1); /* C */
  assert_int_equal((int)f.rec[1].tick_at_processing, 2); /* first entry kept */
  assert_int_equal((int)f.rec[2].completed_on_tick, 14);
  check_ticks(&f.rec[2], 1, 2, 9, 4, 1); /* B */
  assert_int_equal((int)f.rec[3].completed_on_tick, 17);
  check_ticks(&f.rec[3], 1, 2, 13, 3, 1); /* D */
  rig_close(&g);
}

/* The seed's WithProbes acts at Client.send: with every channel empty,
 * probing(random, probes=1) sends RandomRound(1) = 1 probe before the
 * request picks. The probe takes probe_processing_time (1) although its
 * channel was cold, and it warms the channel: the request then takes 3,
 * not 3 + 2.
 *  t0: probe P sent at send time (SENDING 2), A picks and is sent: both
 *      tick once on the channel.  t1: P, A enqueued.  t2: P (1) and A (3)
 *      dequeued; P received and completes (RECEIVING 1) at t2: 0+2+0+1+1.
 *  t4: A completes: 1+2+0+3+1. */
static void test_probe_at_send_warms_channel(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 4,
                    .reset_on_server_tick = -1};
  struct rig g;
  double ticks[] = {0};
  rig_open(&g, &f, "probing(random, probes=1)", 1, 1, ticks, 1);
  assert_true(g.plan.send_time_probes);
  char err[256];
  assert_int_equal(sim_run_execute(g.run, err, sizeof(err)), 0);
  assert_int_equal(f.nrec, 2);
  const struct lb_request_record *p = find(&f, true, 0, 0), *a = find(&f, false, 0, 0);
  assert_int_equal((int)p->completed_on_tick, 2);
  check_ticks(p, 0, 2, 0, 1, 1);
  assert_int_equal((int)a->completed_on_tick, 4);
  check_ticks(a, 1, 2, 0, 3, 1);
  assert_int_equal((int)sim_run_requests(g.run), 2);
  rig_close(&g);
}

/* warm_channels is keyed by channel name: a subset that names server 0
 * twice (drawn with replacement) has two channels and one name, so the
 * second request, on the other channel, is warm: processing 3, not 3 + 2.
 * Two servers: the second request's server is cold too. */
static void test_duplicate_channel_shares_warmth(void **state) {
  (void)state;
  for (int twice = 0; twice < 2; twice++) {
    struct fixed f = {.processing = 3, .send = {2, 2}, .receive = {1, 1}, .threads = 4,
                      .reset_on_server_tick = -1, .subset = {0, twice ? 0 : 1}};
    struct rig g;
    double ticks[] = {0, 5};
    rig_open(&g, &f, "round_robin", 2, 2, ticks, 2);
    char err[256];
    assert_int_equal(sim_run_execute(g.run, err, sizeof(err)), 0);
    assert_int_equal(f.nrec, 2);
    const struct lb_request_record *a = find(&f, false, 0, 0), *b = find(&f, false, 5, 0);
    assert_int_equal(a->server == b->server, twice);
    assert_int_equal((int)a->processing_ticks, 5);
    assert_int_equal((int)b->processing_ticks, twice ? 3 : 5);
    rig_close(&g);
  }
}

/* fastest_probe over two servers: channel 0 sends in 3 ticks, channel 1
 * in 1. t0: probes on both (the pick waits), P1 enqueued at server 1.
 * t1: P1 processed (1) and received; A resumes before the channel ticks:
 * nothing done yet; P1 completes. t2: A resumes, takes channel 1 (its
 * probe is done), sent (1), enqueued. t3: A processed, warm thanks to the
 * probe: 3 ticks -> completes t5: picking 3, send 1, processing 3, recv 1. */
static void test_fastest_probe_resume(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {3, 1}, .receive = {1, 1}, .threads = 4,
                    .reset_on_server_tick = -1, .subset = {0, 1}};
  struct rig g;
  double ticks[] = {0};
  rig_open(&g, &f, "fastest_probe", 2, 2, ticks, 1);
  step(&g); /* t0 */
  assert_int_equal(sim_run_client_pending(g.run, 0), 1);
  assert_int_equal(sim_run_client_rif(g.run, 0), 2); /* until the server is done */
  assert_int_equal(sim_run_server_queued(g.run, 1), 1);
  step(&g); /* t1 */
  assert_int_equal(sim_run_client_pending(g.run, 0), 1);
  step(&g); /* t2 */
  assert_int_equal(sim_run_client_pending(g.run, 0), 0);
  char err[256];
  assert_int_equal(sim_run_execute(g.run, err, sizeof(err)), 0);
  const struct lb_request_record *a = find(&f, false, 0, 0);
  assert_int_equal(a->server, 1);
  assert_int_equal((int)a->completed_on_tick, 5);
  check_ticks(a, 3, 1, 0, 3, 1);
  /* Both probes complete and are recorded (data_frequency 1). */
  assert_int_equal(find(&f, true, 0, 0)->server + find(&f, true, 0, 1)->server, 1);
  rig_close(&g);
}

/* Requests still picking or receiving do not hold the cooldown: the run
 * stops when no client has requests in flight on its channels, and what
 * never completed is counted as timed out. A arrives on the last tick. */
static void test_cooldown_and_leftovers(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {5}, .threads = 4,
                    .reset_on_server_tick = -1};
  struct rig g;
  double ticks[] = {19};
  rig_open(&g, &f, "random", 1, 1, ticks, 1);
  char err[256];
  assert_int_equal(sim_run_execute(g.run, err, sizeof(err)), 0);
  /* t19 sent; t20 enqueued; t21 cold 5: done at t25, received (rif 0);
   * the cooldown stops before A's 5 receive ticks are over. */
  assert_int_equal(sim_run_tick(g.run), 26);
  assert_int_equal(f.nrec, 0);
  struct lb_summary s;
  assert_int_equal(sim_run_summary(g.run, &s), 0);
  assert_int_equal((int)s.timed_out, 1);
  assert_int_equal((int)s.completed, 0);
  rig_close(&g);
}

static void test_split_probing(void **state) {
  (void)state;
  char inner[256];
  double p = 0;
  assert_true(lb_pick_plan_split_probing("probing(hcl)", inner, sizeof(inner), &p));
  assert_string_equal(inner, "hcl");
  assert_float_equal(p, 2.0, 0);
  assert_true(lb_pick_plan_split_probing(" probing( least(client.rif, choices=2) , probes=3.5 ) ",
                                     inner, sizeof(inner), &p));
  assert_string_equal(inner, "least(client.rif, choices=2)");
  assert_float_equal(p, 3.5, 0);
  assert_true(lb_pick_plan_split_probing("probing(hcl(rank=client.latency.mean, health=client.rif))",
                                     inner, sizeof(inner), &p));
  assert_string_equal(inner, "hcl(rank=client.latency.mean, health=client.rif)");
  assert_false(lb_pick_plan_split_probing("subset(probing(hcl), size=2)", inner, sizeof(inner), &p));
  assert_false(lb_pick_plan_split_probing("probing(hcl) x", inner, sizeof(inner), &p));
  assert_false(lb_pick_plan_split_probing("probing(hcl, mystery=1)", inner, sizeof(inner), &p));
  assert_false(lb_pick_plan_split_probing("probing()", inner, sizeof(inner), &p));
}

/* Fractional durations: the seed's ticks_left -= 1 per tick, done at <= 0,
 * takes max(1, ceil(x)) ticks.
 *  (1) random, processing 3 + cold 0.5 = 3.5: A sent t0-t1, dequeued t2,
 *      processing t2..t5 (4 ticks), completes t5: 1+2+0+4+1.
 *  (2) probing(random, probes=1), probe time 2.5: P (sent first, dequeued
 *      first, warms the channel) processing t2..t4 (3); A warm, 3: t2..t4;
 *      both complete t4.
 *  (3) probe time 0: P's one processing tick is t2, it completes t2. */
static void run_times(struct fixed *f, const char *picker, struct rig *g) {
  double ticks[] = {0};
  rig_open(g, f, picker, 1, 1, ticks, 1);
  char err[256];
  assert_int_equal(sim_run_execute(g->run, err, sizeof(err)), 0);
}

static void test_fractional_durations(void **state) {
  (void)state;
  struct rig g;
  struct fixed f = {.processing = 3,
                    .send = {2},
                    .receive = {1},
                    .threads = 4,
                    .reset_on_server_tick = -1,
                    .times = true,
                    .probe_time = 1,
                    .cold_penalty = 0.5};
  run_times(&f, "random", &g);
  const struct lb_request_record *a = find(&f, false, 0, 0);
  assert_int_equal((int)a->completed_on_tick, 5);
  check_ticks(a, 1, 2, 0, 4, 1);
  assert_float_equal(a->modelled_ticks, 2 + 3.5 + 1, 1e-12);
  rig_close(&g);

  f.nrec = 0;
  f.probe_time = 2.5;
  f.cold_penalty = 2;
  run_times(&f, "probing(random, probes=1)", &g);
  const struct lb_request_record *p = find(&f, true, 0, 0);
  a = find(&f, false, 0, 0);
  assert_int_equal((int)p->completed_on_tick, 4);
  check_ticks(p, 0, 2, 0, 3, 1);
  assert_int_equal((int)a->completed_on_tick, 4);
  check_ticks(a, 1, 2, 0, 3, 1);
  rig_close(&g);

  f.nrec = 0;
  f.probe_time = 0;
  run_times(&f, "probing(random, probes=1)", &g);
  p = find(&f, true, 0, 0);
  assert_int_equal((int)p->completed_on_tick, 2);
  check_ticks(p, 0, 2, 0, 1, 1);
  rig_close(&g);
}

/* ---- failures and faults (sim_faults.c, docs/faults.md) ---- */

static void run_all(struct rig *g) {
  char err[256];
  assert_int_equal(sim_run_execute(g->run, err, sizeof(err)), 0);
}

static void check_counts(struct rig *g, int completed, int failed, int timed_out) {
  struct lb_summary s;
  assert_int_equal(sim_run_summary(g->run, &s), 0);
  assert_int_equal((int)s.completed, completed);
  assert_int_equal((int)s.failed, failed);
  assert_int_equal((int)s.timed_out, timed_out);
  assert_int_equal((int)s.requests, completed + failed + timed_out);
}

/* kill at 3 for 4 (dead 3..6, back at 7); one thread, processing 3 (+2
 * cold), send 2, receive 1; A, B at 0, C at 4, D at 8.
 *  t2: A dequeued (5: due t6), B queued.  t3: killed: B (queue) then A
 *  (service) fail at t3, rif 0.  t4: C refused at its send: failed, never
 *  sent.  t7: restarted: empty, fresh accounting, channels cold.
 *  t8: D sent; t10 dequeued cold again (5): done t14. */
static void test_fault_kill(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 1,
                    .reset_on_server_tick = -1,
                    .set = {"faults=[{kind: kill, at: 3, for: 4, server: 0}]"}};
  struct rig g;
  double ticks[] = {0, 0, 4, 8};
  rig_open(&g, &f, "random", 1, 1, ticks, 4);
  step_to(&g, 3);
  const struct lb_server_report *rep = sim_run_server_report(g.run, 0);
  assert_true(rep->utilization.mean > 0);
  step(&g); /* t3 */
  assert_int_equal(f.nrec, 2);
  assert_int_equal(sim_run_server_queued(g.run, 0), 0);
  assert_int_equal(sim_run_server_processing(g.run, 0), 0);
  assert_int_equal(sim_run_client_rif(g.run, 0), 0);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(f.rec[i].outcome, LB_OUTCOME_FAILED);
    assert_int_equal(f.rec[i].server, 0);
    assert_int_equal((int)f.rec[i].completed_on_tick, 3);
    assert_false(f.rec[i].has_report);
  }
  assert_int_equal((int)f.rec[0].tick_at_processing, -1); /* B: still queued */
  assert_int_equal((int)f.rec[1].tick_at_processing, 2);  /* A: in service */
  step(&g); /* t4: C refused */
  assert_int_equal(f.nrec, 3);
  assert_int_equal(f.rec[2].outcome, LB_OUTCOME_FAILED);
  assert_int_equal((int)f.rec[2].started_on_tick, 4);
  assert_int_equal((int)f.rec[2].completed_on_tick, 4);
  assert_int_equal((int)f.rec[2].tick_at_send, -1);
  assert_int_equal(sim_run_client_rif(g.run, 0), 0);
  step_to(&g, 8); /* t7: restarted, one tick recorded since */
  assert_true(rep->utilization.valid);
  assert_float_equal(rep->utilization.mean, 0, 1e-12);
  assert_false(rep->latency.valid);
  run_all(&g);
  assert_int_equal(f.nrec, 4);
  assert_int_equal(f.rec[3].outcome, LB_OUTCOME_COMPLETED);
  assert_int_equal((int)f.rec[3].completed_on_tick, 14);
  check_ticks(&f.rec[3], 1, 2, 0, 5, 1); /* cold after the restart */
  check_counts(&g, 1, 3, 0);
  rig_close(&g);
}

/* pause at 3 for 4 (resumes at 7, 4 ticks late). A at 0: dequeued t2 (5:
 * due t6), resumes at t7 with its 4 ticks left: done t10 (9 processing
 * ticks). B at 3 reaches the paused server at t4: held, not queued; read at
 * t7, queued since t5; dequeued t11 when A's thread is free: 6 queue
 * ticks, 3 processing, done t13. */
static void test_fault_pause(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 1,
                    .reset_on_server_tick = -1,
                    .set = {"faults=[{kind: pause, at: 3, for: 4, server: 0}]"}};
  struct rig g;
  double ticks[] = {0, 3};
  rig_open(&g, &f, "random", 1, 1, ticks, 2);
  step_to(&g, 6);
  assert_int_equal(sim_run_server_queued(g.run, 0), 0); /* B held */
  assert_int_equal(sim_run_server_processing(g.run, 0), 1);
  assert_int_equal(sim_run_client_rif(g.run, 0), 2);
  step_to(&g, 10);
  assert_int_equal(f.nrec, 0); /* A would have been done at t6 */
  run_all(&g);
  assert_int_equal(f.nrec, 2);
  assert_int_equal((int)f.rec[0].completed_on_tick, 10);
  check_ticks(&f.rec[0], 1, 2, 0, 9, 1);
  assert_int_equal((int)f.rec[1].completed_on_tick, 13);
  check_ticks(&f.rec[1], 1, 2, 6, 3, 1);
  check_counts(&g, 2, 0, 0);
  rig_close(&g);
}

/* slow x2 for ticks 0..9: A's work starts at t2: (3 + 2 cold) * 2 = 10
 * ticks; B's starts at t14, after the window: 3. */
static void test_fault_slow(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 1,
                    .reset_on_server_tick = -1,
                    .set = {"faults=[{kind: slow, at: 0, for: 10, server: 0, factor: 2}]"}};
  struct rig g;
  double ticks[] = {0, 12};
  rig_open(&g, &f, "random", 1, 1, ticks, 2);
  run_all(&g);
  assert_int_equal(f.nrec, 2);
  check_ticks(&f.rec[0], 1, 2, 0, 10, 1);
  assert_float_equal(f.rec[0].modelled_ticks, 2 + 10 + 1, 1e-12);
  check_ticks(&f.rec[1], 1, 2, 0, 3, 1);
  check_counts(&g, 2, 0, 0);
  rig_close(&g);
}

/* delay +3 on the channel for ticks 0..4: A's request (sent t0) takes 5;
 * its response (t9) 1. delay +2.5 for 14..15: B's response (t14) takes
 * ceil(1 + 2.5) = 4 ticks; the model's draws count 3.5. */
static void test_fault_delay(void **state) {
  (void)state;
  struct fixed f = {
      .processing = 3, .send = {2}, .receive = {1}, .threads = 1, .reset_on_server_tick = -1,
      .set = {"faults=[{kind: delay, at: 0, for: 5, server: 0, client: 0, ticks: 3}, "
              "{kind: delay, at: 14, for: 2, server: 0, ticks: 2.5}]"}};
  struct rig g;
  double ticks[] = {0, 10};
  rig_open(&g, &f, "random", 1, 1, ticks, 2);
  run_all(&g);
  assert_int_equal(f.nrec, 2);
  check_ticks(&f.rec[0], 1, 5, 0, 5, 1);
  check_ticks(&f.rec[1], 1, 2, 0, 3, 4);
  assert_float_equal(f.rec[1].modelled_ticks, 2 + 3 + 3.5, 1e-12);
  check_counts(&g, 2, 0, 0);
  rig_close(&g);
}

/* timeout 10. A partition of every channel to server 0 for ticks 0..2
 * drops A's request (sent t0): it times out at t10, rif held till then.
 * B at 5 is served (cold, done t11). A partition for 14..19 drops C's
 * response (server done at t16): the server counts C's latency, the
 * client times it out at t22, in the cooldown. */
static void test_fault_partition(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 1,
                    .reset_on_server_tick = -1,
                    .set = {"timeout=10", "faults=[{kind: partition, at: 0, for: 3, server: 0}, "
                                          "{kind: partition, at: 14, for: 6, server: 0, "
                                          "client: 0}]"}};
  struct rig g;
  double ticks[] = {0, 5, 12};
  rig_open(&g, &f, "random", 1, 1, ticks, 3);
  step_to(&g, 10);
  assert_int_equal(sim_run_client_rif(g.run, 0), 2); /* A waits, B in service */
  assert_int_equal(sim_run_server_queued(g.run, 0) + sim_run_server_processing(g.run, 0), 1);
  step(&g); /* t10: A times out */
  assert_int_equal(f.nrec, 1);
  assert_int_equal(f.rec[0].outcome, LB_OUTCOME_TIMED_OUT);
  assert_int_equal((int)f.rec[0].completed_on_tick, 10);
  assert_int_equal(f.rec[0].server, 0);
  step_to(&g, 17);
  assert_int_equal(f.nrec, 2); /* B */
  assert_int_equal(sim_run_client_rif(g.run, 0), 1); /* C: its response lost */
  assert_float_equal(sim_run_server_report(g.run, 0)->latency.latest, 3, 1e-12);
  run_all(&g);
  assert_int_equal(sim_run_tick(g.run), 23);
  assert_int_equal(f.nrec, 3);
  assert_int_equal(f.rec[1].outcome, LB_OUTCOME_COMPLETED);
  check_ticks(&f.rec[1], 1, 2, 0, 5, 1);
  assert_int_equal(f.rec[2].outcome, LB_OUTCOME_TIMED_OUT);
  assert_int_equal((int)f.rec[2].started_on_tick, 12);
  assert_int_equal((int)f.rec[2].completed_on_tick, 22);
  check_counts(&g, 1, 0, 2);
  rig_close(&g);
}

/* max_queue 1 with one thread: a server holds at most 2 in flight. A, B, C,
 * D reach it at t1: C and D are answered at once with a failure (receive
 * 1: done t1) and the report as it stands; the server counts 4 queries
 * and, at t2's record, 2 errors (eps: the mean of 0, 0, 2). */
static void test_max_queue(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {2}, .receive = {1}, .threads = 1,
                    .reset_on_server_tick = -1, .set = {"max_queue=1"}};
  struct rig g;
  double ticks[] = {0, 0, 0, 0};
  rig_open(&g, &f, "random", 1, 1, ticks, 4);
  step_to(&g, 2);
  assert_int_equal(f.nrec, 2);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(f.rec[i].outcome, LB_OUTCOME_FAILED);
    assert_int_equal((int)f.rec[i].completed_on_tick, 1);
    assert_true(f.rec[i].has_report);
  }
  assert_int_equal(sim_run_client_rif(g.run, 0), 2);
  step(&g); /* t2 */
  const struct lb_server_report *rep = sim_run_server_report(g.run, 0);
  assert_float_equal(rep->queries_per_tick.latest, 4, 1e-12);
  assert_float_equal(rep->orca_eps, 2.0 / 3, 1e-12);
  run_all(&g);
  assert_int_equal(f.nrec, 4);
  check_counts(&g, 2, 2, 0);
  rig_close(&g);
}

/* timeout 8, processing 10 (+2 cold): A in service and B queued at t8 are
 * timed out by the client (rif 0); the server, which does not know, goes
 * on: A done at t13 (its latency counted there), B served after; their
 * late responses are dropped and counted nowhere else. */
static void test_timeout(void **state) {
  (void)state;
  struct fixed f = {.processing = 10, .send = {2}, .receive = {1}, .threads = 1,
                    .reset_on_server_tick = -1, .set = {"timeout=8"}};
  struct rig g;
  double ticks[] = {0, 0};
  rig_open(&g, &f, "random", 1, 1, ticks, 2);
  step_to(&g, 9);
  assert_int_equal(f.nrec, 2);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(f.rec[i].outcome, LB_OUTCOME_TIMED_OUT);
    assert_int_equal((int)f.rec[i].completed_on_tick, 8);
    assert_false(f.rec[i].has_report);
  }
  assert_int_equal(sim_run_client_rif(g.run, 0), 0);
  assert_int_equal(sim_run_server_processing(g.run, 0), 1);
  assert_int_equal(sim_run_server_queued(g.run, 0), 1);
  step_to(&g, 14);
  assert_float_equal(sim_run_server_report(g.run, 0)->latency.latest, 12, 1e-12);
  run_all(&g);
  assert_int_equal(f.nrec, 2);
  check_counts(&g, 0, 0, 2);
  rig_close(&g);
}

/* fastest_probe over two dead servers: both probes are refused at t0
 * (failed), the pick waits on probes none of which can complete, so its
 * request fails at the next client tick (lbclient's pick_stuck), with no
 * server. */
static void test_pick_stuck_on_failed_probes(void **state) {
  (void)state;
  struct fixed f = {.processing = 3, .send = {1, 1}, .receive = {1, 1}, .threads = 4,
                    .reset_on_server_tick = -1, .subset = {0, 1},
                    .set = {"faults=[{kind: kill, at: 0, for: 5, server: 0}, "
                            "{kind: kill, at: 0, for: 5, server: 1}]"}};
  struct rig g;
  double ticks[] = {0};
  rig_open(&g, &f, "fastest_probe", 2, 2, ticks, 1);
  step(&g); /* t0 */
  assert_int_equal(f.nrec, 2);
  assert_true(f.rec[0].is_probe && f.rec[1].is_probe);
  assert_int_equal(f.rec[0].outcome, LB_OUTCOME_FAILED);
  assert_int_equal(sim_run_client_pending(g.run, 0), 1);
  step(&g); /* t1 */
  assert_int_equal(sim_run_client_pending(g.run, 0), 0);
  assert_int_equal(f.nrec, 3);
  assert_false(f.rec[2].is_probe);
  assert_int_equal(f.rec[2].outcome, LB_OUTCOME_FAILED);
  assert_int_equal(f.rec[2].server, -1);
  assert_int_equal((int)f.rec[2].completed_on_tick, 1);
  run_all(&g);
  check_counts(&g, 0, 3, 0);
  rig_close(&g);
}

/* Behind a proxy (scenario proxy:) every client picks with the one shared
 * picker over the proxy's channels. 3 clients, 4 servers, 5 requests per
 * client (arrivals at ticks 0..4, one per client each tick):
 * - haproxy roundrobin: one counter for all 15 picks, so the servers get
 *   4, 4, 4, 3 (client-side round_robin, a counter per client from 0,
 *   would give server 0 six and the others three);
 * - haproxy leastconn: after every tick the proxy's rif to each server is
 *   the sum of the clients' rif to it. */
struct proxy_count {
  int per_server[4];
  int records;
};

static void count_record(void *ctx, const struct lb_request_record *rec) {
  struct proxy_count *pc = ctx;
  if (rec->server >= 0 && rec->server < 4)
    pc->per_server[rec->server]++;
  pc->records++;
}

static void run_proxy(const char *balance, bool proxy, struct proxy_count *pc) {
  char err[1024] = "";
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  snprintf(sc.name, sizeof(sc.name), "proxied");
  sc.servers = 4;
  sc.clients = 3;
  sc.subset_size = 0;
  sc.total_ticks = 60; /* every request done inside the run */
  sc.data_frequency = 1;
  sc.transport = LB_TRANSPORT_HTTP;
  snprintf(sc.picker, sizeof(sc.picker), "round_robin");
  if (proxy) {
    assert_int_equal(lb_scenario_set(&sc, "proxy", "haproxy", err, sizeof(err)), 0);
    assert_int_equal(lb_scenario_set(&sc, "proxy_balance", balance, err, sizeof(err)), 0);
  }
  if (lb_scenario_finish(&sc, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  struct lb_arrival items[15];
  for (int i = 0; i < 15; i++)
    items[i] = (struct lb_arrival){.tick = i / 3, .client = i % 3};
  struct lb_arrivals arrivals = {.items = items, .n = 15};
  struct lb_pick_plan plan;
  assert_int_equal(lb_pick_plan_init(&plan, sc.picker, true, "test", err, sizeof(err)), 0);
  struct sim_options opt = {
      .plan = &plan, .arrivals = &arrivals, .on_record = count_record, .on_record_ctx = pc};
  struct sim_run *r = NULL;
  if (sim_run_new(&sc, 0, &opt, &r, err, sizeof(err)) != 0)
    fail_msg("sim_run_new: %s", err);
  assert_true((sim_run_proxy_channel(r, 0) != NULL) == proxy);
  bool done = false;
  while (!done) {
    if (sim_run_step(r, &done, err, sizeof(err)) != 0)
      fail_msg("sim_run_step: %s", err);
    for (int s = 0; proxy && s < 4; s++) {
      int sum = 0;
      for (int c = 0; c < 3; c++)
        sum += sim_run_channel(r, c, s)->requests_in_flight;
      assert_int_equal(sim_run_proxy_channel(r, s)->requests_in_flight, sum);
    }
  }
  sim_run_free(r);
  lb_pick_plan_close(&plan);
}

static void test_proxy_shared_picker(void **state) {
  (void)state;
  struct proxy_count rr = {0}, own = {0}, lc = {0};
  run_proxy("roundrobin", true, &rr);
  assert_int_equal(rr.records, 15);
  for (int s = 0; s < 4; s++)
    assert_int_equal(rr.per_server[s], s < 3 ? 4 : 3);
  run_proxy(NULL, false, &own); /* each client's own round_robin */
  assert_int_equal(own.records, 15);
  assert_int_equal(own.per_server[0], 6);
  for (int s = 1; s < 4; s++)
    assert_int_equal(own.per_server[s], 3);
  run_proxy("leastconn", true, &lc);
  assert_int_equal(lc.records, 15);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_trace_one_thread),
      cmocka_unit_test(test_completion_seen_next_tick),
      cmocka_unit_test(test_reset_demotes_to_front),
      cmocka_unit_test(test_probe_at_send_warms_channel),
      cmocka_unit_test(test_duplicate_channel_shares_warmth),
      cmocka_unit_test(test_fastest_probe_resume),
      cmocka_unit_test(test_cooldown_and_leftovers),
      cmocka_unit_test(test_split_probing),
      cmocka_unit_test(test_fractional_durations),
      cmocka_unit_test(test_fault_kill),
      cmocka_unit_test(test_fault_pause),
      cmocka_unit_test(test_fault_slow),
      cmocka_unit_test(test_fault_delay),
      cmocka_unit_test(test_fault_partition),
      cmocka_unit_test(test_max_queue),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_pick_stuck_on_failed_probes),
      cmocka_unit_test(test_proxy_shared_picker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
