/* reset_mirror: replaying a fleet's resets away from it gives, tick by
 * tick, the server rtts and channel means lbsim has (lbclient's channel
 * means come from the mirror). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "channel.h"
#include "fleet.h"
#include "pick_plan.h"
#include "reset_mirror.h"
#include "sim_engine.h"

static void test_mirror_follows_lbsim(void **state) {
  (void)state;
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  snprintf(sc.name, sizeof(sc.name), "mirror");
  sc.servers = 5;
  sc.clients = 4;
  sc.subset_size = 3;
  sc.total_ticks = 200;
  sc.mean_requests_per_server_per_tick = 1;
  sc.mean_threads = 20;
  sc.server_reset_probability = 0.03;
  sc.network_reset_probability = 0.05;
  sc.seed = 11;
  char err[256];
  struct lb_pick_plan plan;
  assert_int_equal(lb_pick_plan_init(&plan, "random", true, "mirror", err, sizeof(err)), 0);
  struct sim_options opt = {.plan = &plan};
  struct sim_run *run = NULL;
  assert_int_equal(sim_run_new(&sc, 2, &opt, &run, err, sizeof(err)), 0);

  uint64_t run_seed = lb_fleet_run_seed(&sc, 2);
  struct lb_reset_mirror *m = NULL;
  assert_int_equal(lb_reset_mirror_new(&sc, run_seed, &m), 0);
  int handle[4][3];
  for (int c = 0; c < sc.clients; c++)
    for (int k = 0; k < sc.subset_size; k++) {
      /* the initial mean as lbclient draws it, from the channel's stream */
      struct lb_rng *rng = NULL;
      assert_int_equal(lb_fleet_channel_rng(&sc, run_seed, c, k, &rng), 0);
      int server = sim_run_channel(run, c, k)->server;
      double mean = lb_fleet_draw_channel_mean(&sc, rng, lb_reset_mirror_server_rtt(m, server));
      lb_rng_free(rng);
      assert_true(mean == sim_run_channel_mean(run, c, k));
      handle[c][k] = lb_reset_mirror_add_channel(m, c, k, server, mean);
      assert_true(handle[c][k] >= 0);
    }

  int server_changes = 0, channel_changes = 0;
  double last[4][3];
  for (int c = 0; c < sc.clients; c++)
    for (int k = 0; k < sc.subset_size; k++)
      last[c][k] = sim_run_channel_mean(run, c, k);
  bool finished = false;
  while (!finished) {
    int tick = sim_run_tick(run);
    assert_int_equal(sim_run_step(run, &finished, err, sizeof(err)), 0);
    if (finished)
      break;
    lb_reset_mirror_advance(m, tick);
    for (int s = 0; s < sc.servers; s++) {
      int rtt = sim_run_server_params(run, s)->mean_rtt;
      assert_int_equal(lb_reset_mirror_server_rtt(m, s), rtt);
    }
    for (int c = 0; c < sc.clients; c++)
      for (int k = 0; k < sc.subset_size; k++) {
        double mean = sim_run_channel_mean(run, c, k);
        assert_true(lb_reset_mirror_channel_mean(m, handle[c][k]) == mean);
        channel_changes += mean != last[c][k];
        last[c][k] = mean;
      }
  }
  for (int s = 0; s < sc.servers; s++)
    server_changes += sim_run_server_params(run, s)->mean_rtt != lb_reset_mirror_server_rtt(m, s);
  assert_int_equal(server_changes, 0);
  /* resets happened (0.05 x 12 channels x 200+ ticks), else this proved little */
  assert_true(channel_changes > 20);
  lb_reset_mirror_free(m);
  sim_run_free(run);
  lb_pick_plan_close(&plan);
}

/* Advancing in one call or tick by tick replays the same resets. */
static void test_advance_catches_up(void **state) {
  (void)state;
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  sc.servers = 3;
  sc.network_reset_probability = 0.1;
  sc.server_reset_probability = 0.1;
  struct lb_reset_mirror *a = NULL, *b = NULL;
  assert_int_equal(lb_reset_mirror_new(&sc, 9, &a), 0);
  assert_int_equal(lb_reset_mirror_new(&sc, 9, &b), 0);
  assert_int_equal(lb_reset_mirror_add_channel(a, 0, 0, 2, 0.25), 0);
  assert_int_equal(lb_reset_mirror_add_channel(b, 0, 0, 2, 0.25), 0);
  assert_int_equal(lb_reset_mirror_add_channel(a, 0, 1, 7, 0.25), -EINVAL);
  for (long t = 0; t < 100; t++)
    lb_reset_mirror_advance(a, t);
  lb_reset_mirror_advance(b, 99);
  lb_reset_mirror_advance(b, 50); /* the past: nothing */
  assert_true(lb_reset_mirror_channel_mean(a, 0) == lb_reset_mirror_channel_mean(b, 0));
  assert_true(lb_reset_mirror_channel_mean(a, 0) != 0.25);
  lb_reset_mirror_free(a);
  lb_reset_mirror_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mirror_follows_lbsim),
      cmocka_unit_test(test_advance_catches_up),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
