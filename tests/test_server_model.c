/* lbserver's model: parameters from the fleet draws (or the command line),
 * processing draws with the cold-channel penalty, probes, resets (from the
 * reset stream, on lbsim's ticks), and the tick's observation from a pool
 * sample. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fleet.h"
#include "server_model.h"

#define TICK 1000000LL

static void scenario(struct lb_scenario *sc) {
  lb_scenario_defaults(sc);
  sc->tick_ns = TICK;
  sc->servers = 3;
  sc->server_reset_probability = 0;
  sc->cold_channel_penalty = 10;
  sc->probe_processing_time = 2;
  sc->seed = 11;
}

static void test_params_from_fleet_draws(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_server_model m;
  struct lb_server_overrides none = {.threads = 0, .processing_time = -1, .rtt = -1};
  scenario(&sc);
  assert_int_equal(lb_server_model_init(&m, &sc, 2, 1, &none, NULL), 0);
  /* The same stream lbsim uses for server 2 of run 1. */
  struct lb_rng *rng = NULL;
  struct lb_server_params p;
  assert_int_equal(lb_rng_new(lb_seed_derive(lb_fleet_run_seed(&sc, 1), LB_STREAM_SERVER, 2), &rng),
                   0);
  lb_fleet_draw_server(&sc, rng, &p);
  lb_rng_free(rng);
  assert_int_equal(m.threads, p.threads);
  assert_true(m.mean_processing_time == p.mean_processing_time);
  assert_true(m.mean_rtt == p.mean_rtt);
  lb_server_model_close(&m);

  struct lb_server_overrides ov = {.threads = 7, .processing_time = 3.5, .rtt = 1};
  assert_int_equal(lb_server_model_init(&m, &sc, 2, 1, &ov, NULL), 0);
  assert_int_equal(lb_server_model_threads(&m), 7);
  assert_true(m.mean_processing_time == 3.5);
  lb_server_model_close(&m);

  /* A given fleet's parameters (lbserver --fleet) replace the drawn ones,
   * which are drawn all the same: the stream is where lbsim's is. */
  const struct lb_server_params given = {.threads = 13, .mean_processing_time = 17, .mean_rtt = 5};
  struct lb_server_overrides fleet = {
      .threads = 0, .processing_time = -1, .rtt = -1, .initial = &given};
  assert_int_equal(lb_server_model_init(&m, &sc, 2, 1, &fleet, NULL), 0);
  assert_int_equal(lb_server_model_threads(&m), 13);
  assert_true(m.mean_processing_time == 17);
  assert_true(m.mean_rtt == 5);
  assert_int_equal(lb_rng_new(lb_seed_derive(lb_fleet_run_seed(&sc, 1), LB_STREAM_SERVER, 2), &rng),
                   0);
  lb_fleet_draw_server(&sc, rng, &p);
  assert_true(lb_rng_uniform(rng) == lb_rng_uniform(m.rng));
  lb_rng_free(rng);
  lb_server_model_close(&m);
}

static void test_cold_channels_and_probes(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_server_model m;
  /* randGamma(0.5) is always 1 (shape <= 0: min, rng.h): one tick, plus
   * the penalty when cold. */
  struct lb_server_overrides ov = {.threads = 4, .processing_time = 0.5, .rtt = -1};
  scenario(&sc);
  assert_int_equal(lb_server_model_init(&m, &sc, 0, 0, &ov, NULL), 0);
  assert_int_equal(lb_server_model_work_ns(&m, false, 5), 11 * TICK);
  assert_int_equal(lb_server_model_work_ns(&m, false, 5), 1 * TICK);
  assert_int_equal(lb_server_model_work_ns(&m, false, 6), 11 * TICK);
  /* Probes take exactly probe_processing_time, and warm their channel
   * like the seed (the warm check comes before the probe override). */
  assert_int_equal(lb_server_model_work_ns(&m, true, 7), 2 * TICK);
  assert_int_equal(lb_server_model_work_ns(&m, false, 7), 1 * TICK);
  /* Many channels: the warm set grows and remembers all of them. */
  for (uint32_t c = 100; c < 1100; c++)
    assert_int_equal(lb_server_model_work_ns(&m, false, c), 11 * TICK);
  for (uint32_t c = 100; c < 1100; c++)
    assert_int_equal(lb_server_model_work_ns(&m, false, c), 1 * TICK);
  lb_server_model_close(&m);

  /* No processing at all (benchmarks): no penalty either. */
  ov.processing_time = 0;
  assert_int_equal(lb_server_model_init(&m, &sc, 0, 0, &ov, NULL), 0);
  assert_int_equal(lb_server_model_work_ns(&m, false, 5), 0);
  assert_int_equal(lb_server_model_work_ns(&m, true, 5), 2 * TICK);
  lb_server_model_close(&m);
}

static void test_tick_and_reset(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_server_model m;
  struct lb_server_overrides ov = {.threads = 4, .processing_time = 0.5, .rtt = -1};
  struct lb_server_report r;
  scenario(&sc);
  assert_int_equal(lb_server_model_init(&m, &sc, 1, 0, &ov, NULL), 0);
  lb_server_model_on_arrival(&m);
  lb_server_model_on_arrival(&m);
  lb_server_model_on_reject(&m);
  /* Half the thread-time busy over one tick, 3 in flight, 1 queued, two
   * done with 3 ticks of latency between them. */
  struct lb_server_pool_sample s = {.interval_ns = TICK,
                                    .busy_ns = 2 * TICK,
                                    .threads = 4,
                                    .queued = 1,
                                    .processing = 2,
                                    .completed = 2,
                                    .latency_sum_ns = 6 * TICK};
  assert_int_equal(lb_server_model_tick(&m, &s), 0);
  /* Responses carry the report before the latest tick's. */
  lb_server_model_report(&m, &r);
  assert_false(r.utilization.valid);
  struct lb_server_pool_sample quiet = {.interval_ns = TICK, .threads = 4};
  assert_int_equal(lb_server_model_tick(&m, &quiet), 0);
  lb_server_model_report(&m, &r);
  assert_true(r.utilization.valid && fabs(r.utilization.latest - 50) < 1e-9);
  assert_true(r.requests_in_flight.latest == 3);
  assert_true(r.queued_requests.latest == 1);
  assert_true(r.queries_per_tick.latest == 2);
  assert_true(r.latency.valid && fabs(r.latency.latest - 3) < 1e-9);
  assert_int_equal(r.server, 1);
  assert_int_equal(r.threads, 4);
  /* ORCA rates per second: 2 queries and 1 error in a 1 ms tick. */
  assert_true(fabs(r.orca_qps - 2000) < 1e-6);
  assert_true(fabs(r.orca_eps - 1000) < 1e-6);
  assert_true(r.pid_weight == 0); /* no board: no fleet mean */

  /* A reset every tick: new parameters (overrides stay), warm channels
   * forgotten, the accounting emptied. */
  assert_int_equal(lb_server_model_work_ns(&m, false, 3), 11 * TICK);
  sc.server_reset_probability = 1; /* the clock reads it when made: make server 1's again */
  lb_reset_clock_close(&m.reset);
  lb_fleet_server_reset_clock(&sc, lb_fleet_run_seed(&sc, 0), 1, &m.reset);
  assert_int_equal(lb_server_model_tick(&m, &s), 4);
  lb_server_model_report(&m, &r);
  assert_false(r.utilization.valid);
  assert_int_equal(r.threads, 4);
  assert_int_equal(lb_server_model_work_ns(&m, false, 3), 11 * TICK);
  assert_int_equal(m.resets, 1);
  lb_server_model_close(&m);
}

static void test_utilization_on_the_seed_grid(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_server_model m;
  struct lb_server_overrides ov = {.threads = 4, .processing_time = 0.5, .rtt = -1};
  struct lb_server_report r;
  scenario(&sc);
  assert_int_equal(lb_server_model_init(&m, &sc, 0, 0, &ov, NULL), 0);
  /* Before the first request the run has not begun: nothing recorded. */
  struct lb_server_pool_sample idle = {.interval_ns = TICK, .threads = 4};
  assert_int_equal(lb_server_model_tick(&m, &idle), 0);
  lb_server_model_report(&m, &r);
  assert_false(r.utilization.valid);
  lb_server_model_on_arrival(&m);
  /* 1.6 threads busy on average: the seed's whole busy threads, 2 of 4. */
  struct lb_server_pool_sample s = {.interval_ns = TICK, .busy_ns = 16 * TICK / 10, .threads = 4};
  assert_int_equal(lb_server_model_tick(&m, &s), 0);
  assert_int_equal(lb_server_model_tick(&m, &s), 0);
  lb_server_model_report(&m, &r);
  assert_true(r.utilization.valid && fabs(r.utilization.latest - 50) < 1e-9);
  /* 0.4 busy: none; more than every thread (a late tick): 100, never more. */
  s.busy_ns = 4 * TICK / 10;
  assert_int_equal(lb_server_model_tick(&m, &s), 0);
  assert_int_equal(lb_server_model_tick(&m, &s), 0);
  lb_server_model_report(&m, &r);
  assert_true(fabs(r.utilization.latest) < 1e-9);
  s.busy_ns = 5 * TICK;
  assert_int_equal(lb_server_model_tick(&m, &s), 0);
  assert_int_equal(lb_server_model_tick(&m, &s), 0);
  lb_server_model_report(&m, &r);
  assert_true(fabs(r.utilization.latest - 100) < 1e-9);
  /* Requests in flight as the seed records them, after the tick's
   * completions: those ending within the next tick are not counted. */
  struct lb_server_pool_sample e = {
      .interval_ns = TICK, .threads = 4, .queued = 1, .processing = 3, .processing_ending = 2};
  assert_int_equal(lb_server_model_tick(&m, &e), 0);
  assert_int_equal(lb_server_model_tick(&m, &e), 0);
  lb_server_model_report(&m, &r);
  assert_true(r.requests_in_flight.latest == 2);
  assert_true(r.queued_requests.latest == 1);
  lb_server_model_close(&m);
}

/* Resets as lbsim draws them: from tick 0 of the fleet, one uniform per
 * tick from the server's reset stream, and a reset's new parameters from the
 * same stream; ticks the timer skipped are drawn for too. */
#define RESET_TICKS 600
static void test_resets_from_the_reset_stream(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_server_overrides none = {.threads = 0, .processing_time = -1, .rtt = -1};
  scenario(&sc);
  sc.server_reset_probability = 0.02;
  /* Expected: the parameters in force during each tick 0..RESET_TICKS. */
  static struct lb_server_params want[RESET_TICKS + 1];
  static bool reset_at[RESET_TICKS + 1];
  struct lb_rng *rng = NULL;
  struct lb_reset_clock clock;
  uint64_t seed = lb_fleet_run_seed(&sc, 1);
  assert_int_equal(lb_rng_new(lb_seed_derive(seed, LB_STREAM_SERVER, 2), &rng), 0);
  lb_fleet_server_reset_clock(&sc, seed, 2, &clock);
  struct lb_server_params p;
  lb_fleet_draw_server(&sc, rng, &p);
  int resets = 0;
  for (int k = 0; k <= RESET_TICKS; k++) {
    reset_at[k] = lb_reset_clock_due(&clock, k);
    if (reset_at[k]) {
      assert_int_equal(lb_fleet_server_reset(&sc, &clock, &p), 0);
      resets++;
    }
    want[k] = p;
  }
  lb_rng_free(rng);
  lb_reset_clock_close(&clock);
  assert_true(resets >= 3); /* the seed above gives several */

  struct lb_server_model m;
  struct lb_server_pool_sample idle = {.interval_ns = TICK, .threads = 1};
  assert_int_equal(lb_server_model_init(&m, &sc, 2, 1, &none, NULL), 0);
  assert_int_equal(lb_server_model_align(&m, 0), want[0].threads);
  assert_int_equal(m.resets, reset_at[0] ? 1 : 0);
  int seen = reset_at[0] ? 1 : 0;
  for (int k = 1; k <= RESET_TICKS; k++) {
    idle.threads = m.threads;
    int resize = lb_server_model_tick_at(&m, &idle, k);
    assert_int_equal(resize, reset_at[k] ? want[k].threads : 0);
    seen += reset_at[k];
    assert_int_equal(m.threads, want[k].threads);
    assert_true(m.mean_processing_time == want[k].mean_processing_time);
    assert_true(m.mean_rtt == want[k].mean_rtt);
  }
  assert_int_equal(m.resets, (uint64_t)seen);
  assert_int_equal(seen, resets);
  lb_server_model_close(&m);

  /* Skipped ticks: jumping 7 ticks at a time lands on the same parameters
   * and counts the same resets. */
  assert_int_equal(lb_server_model_init(&m, &sc, 2, 1, &none, NULL), 0);
  lb_server_model_align(&m, 0);
  for (int k = 7; k <= RESET_TICKS; k += 7) {
    idle.threads = m.threads;
    lb_server_model_tick_at(&m, &idle, k);
    assert_int_equal(m.threads, want[k].threads);
    assert_true(m.mean_processing_time == want[k].mean_processing_time);
  }
  lb_server_model_close(&m);

  /* A server started in a later tick of the fleet (that of the first reset
   * after tick 0): every tick up to it drawn at once. */
  int late = 1;
  while (!reset_at[late])
    late++;
  assert_int_equal(lb_server_model_init(&m, &sc, 2, 1, &none, NULL), 0);
  assert_int_equal(lb_server_model_align(&m, late), want[late].threads);
  assert_true(m.mean_processing_time == want[late].mean_processing_time);
  assert_true(m.resets >= 1);
  idle.threads = m.threads;
  lb_server_model_tick_at(&m, &idle, late + 1);
  assert_int_equal(m.threads, want[late + 1].threads);
  lb_server_model_close(&m);

  /* Without a fleet tick 0: from the first request, one tick per call,
   * still from the reset stream (its first draw on the first tick). */
  assert_int_equal(lb_server_model_init(&m, &sc, 2, 1, &none, NULL), 0);
  assert_int_equal(lb_server_model_tick(&m, &idle), 0); /* not begun: no draw */
  lb_server_model_on_arrival(&m);
  for (int k = 0; k <= RESET_TICKS; k++) {
    idle.threads = m.threads;
    lb_server_model_tick(&m, &idle);
    assert_int_equal(m.threads, want[k].threads);
  }
  assert_int_equal(m.resets, (uint64_t)resets);
  lb_server_model_close(&m);
}

/* Prequal on the real server: completions in ns feed the latency-by-RIF
 * buckets in ticks; a probe's report carries the answer at the given RIF. */
static void test_probe_answer(void **state) {
  (void)state;
  struct lb_scenario sc;
  struct lb_server_model m;
  struct lb_server_overrides ov = {.threads = 4, .processing_time = 0.5, .rtt = -1};
  struct lb_server_report r;
  scenario(&sc);
  assert_int_equal(lb_server_model_init(&m, &sc, 2, 0, &ov, NULL), 0);
  lb_server_model_probe_report(&m, 5, &r);
  assert_true(r.has_probe_answer && r.probe_rif == 5 && r.probe_latency == -1);
  lb_server_model_on_complete(&m, 4, 3 * TICK);
  lb_server_model_on_complete(&m, 6, 5 * TICK);
  lb_server_model_on_complete(&m, 9, 100 * TICK);
  lb_server_model_probe_report(&m, 5, &r); /* median of 3 and 5 ticks */
  assert_true(fabs(r.probe_latency - 4) < 1e-9);
  assert_int_equal(r.server, 2);
  /* responses to requests carry no answer */
  lb_server_model_report(&m, &r);
  assert_false(r.has_probe_answer);
  lb_server_model_close(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_params_from_fleet_draws),
      cmocka_unit_test(test_cold_channels_and_probes),
      cmocka_unit_test(test_tick_and_reset),
      cmocka_unit_test(test_utilization_on_the_seed_grid),
      cmocka_unit_test(test_resets_from_the_reset_stream),
      cmocka_unit_test(test_probe_answer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
