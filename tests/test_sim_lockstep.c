/* lbsim against the seed's own code, in lockstep: the seed's TestManager
 * (extracted from the notebook at run time by tools/seed_reference) runs
 * with every random draw fixed (tools/seed_reference/lockstep_seed.py says
 * which), lbsim runs with the same fixed draws through its test hooks, and
 * every completed request must match: ticks of each state, the report it
 * carried (utilization, queries, rif, queue ewma, latency, the expected
 * latency from the latency-by-rif table) and the PID weight,
 * through queueing, a server reset that demotes requests, and the cooldown.
 * Skipped where the seed notebook or Debian's python3 with numpy, pandas
 * and scipy is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"
#include "sim_engine.h"
#include "pick_plan.h"

#define MAX_ROWS 1024
#define NCOLS 24
#define TICKS 60

static const char *const cols[NCOLS] = {
    "test_stage", "is_probe", "client", "server", "started_on_tick", "completed_on_tick", "tick_at_send",
    "tick_at_server_queue", "tick_at_processing", "tick_at_receive", "total_ticks",
    "picking_ticks", "send_ticks", "server_queue_ticks", "processing_ticks", "receive_ticks",
    "server_utilization_latest", "server_utilization_mean", "server_queries_per_tick_latest",
    "server_requests_in_flight_latest", "server_queued_requests_ewma", "server_pid_weight",
    "server_expected_latency", "server_latency_mean"};

/* One row as text cells, the seed's CSV format (empty = None). */
struct row {
  char cell[NCOLS][48];
};

static struct row seed_rows[MAX_ROWS], sim_rows[MAX_ROWS];
static int nseed, nsim;

static void cell_num(char *c, bool valid, double v) {
  if (valid)
    snprintf(c, 48, "%.17g", v);
  else
    c[0] = '\0';
}

static void keep(void *ctx, const struct lb_request_record *r) {
  (void)ctx;
  if (nsim >= MAX_ROWS)
    return;
  struct row *w = &sim_rows[nsim++];
  const double nums[] = {r->started_on_tick, r->completed_on_tick, r->tick_at_send,
                         r->tick_at_server_queue, r->tick_at_processing, r->tick_at_receive,
                         r->total_ticks, r->picking_ticks, r->send_ticks, r->server_queue_ticks,
                         r->processing_ticks, r->receive_ticks};
  snprintf(w->cell[0], 48, "%s", lb_stage_name(r->stage));
  snprintf(w->cell[1], 48, "%s", r->is_probe ? "True" : "False");
  snprintf(w->cell[2], 48, "Client %d", r->client);
  snprintf(w->cell[3], 48, "Server %d", r->server);
  for (int i = 0; i < 12; i++)
    cell_num(w->cell[4 + i], true, nums[i]);
  const struct lb_server_report *p = &r->report;
  cell_num(w->cell[16], p->utilization.valid, p->utilization.latest);
  cell_num(w->cell[17], p->utilization.valid, p->utilization.mean);
  cell_num(w->cell[18], p->queries_per_tick.valid, p->queries_per_tick.latest);
  cell_num(w->cell[19], p->requests_in_flight.valid, p->requests_in_flight.latest);
  cell_num(w->cell[20], p->queued_requests.valid, p->queued_requests.ewma);
  cell_num(w->cell[21], true, p->pid_weight);
  cell_num(w->cell[22], p->has_expected_latency, p->expected_latency);
  cell_num(w->cell[23], p->latency.valid, p->latency.mean);
}

/* The draws lockstep_seed.py fixes. */
static int server_draws[2];
static int fixed_gamma(void *ctx, enum sim_draw what, int entity, double mean) {
  (void)ctx, (void)what, (void)entity;
  int v = (int)mean;
  return v < 1 ? 1 : v;
}
static double fixed_uniform(void *ctx, enum sim_draw what, int entity) {
  (void)ctx;
  if (what == SIM_DRAW_SERVER_RESET) {
    int t = server_draws[entity]++;
    if (entity == 1 && (t == 20 || t == 45))
      return -1; /* below any probability: reset */
  }
  return 1;
}
static void fixed_server(void *ctx, int server, bool reset, struct lb_server_params *p) {
  (void)ctx, (void)server, (void)reset;
  p->threads = 3;            /* randGamma(mean_threads=3) */
  p->mean_processing_time = 6;
  p->mean_rtt = 2;
}
static double fixed_channel(void *ctx, int client, int slot, int server) {
  (void)ctx, (void)client, (void)slot, (void)server;
  return (2 + 2) / 2.0;
}
static void fixed_subset(void *ctx, int client, int *servers, int n) {
  (void)ctx;
  for (int i = 0; i < n; i++)
    servers[i] = (client + i) % 2;
}

static bool same_cell(const char *a, const char *b) {
  if (strcmp(a, b) == 0)
    return true;
  char *ea = NULL, *eb = NULL;
  double x = strtod(a, &ea), y = strtod(b, &eb);
  if (ea == a || eb == b || *ea || *eb)
    return false;
  return fabs(x - y) <= 1e-9 * fmax(1, fabs(x));
}

static int read_seed(const char *dir, const char *mode) {
  const char *py = getenv("LB_SEED_PYTHON") ? getenv("LB_SEED_PYTHON") : "/usr/bin/python3";
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), "'%s' '%s/tools/seed_reference/lockstep_seed.py' '%s' %s 2>/dev/null",
           py, LB_SOURCE_DIR, dir, mode);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return -1;
  char line[4096];
  bool header = true;
  while (fgets(line, sizeof(line), p) != NULL && nseed < MAX_ROWS) {
    line[strcspn(line, "\r\n")] = '\0';
    if (header) {
      header = false;
      continue;
    }
    struct row *w = &seed_rows[nseed++];
    char *s = line;
    for (int c = 0; c < NCOLS; c++) {
      char *comma = strchr(s, ',');
      size_t n = comma ? (size_t)(comma - s) : strlen(s);
      snprintf(w->cell[c], 48, "%.*s", (int)n, s);
      s = comma ? comma + 1 : s + n;
    }
  }
  return pclose(p) == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

enum mode { RANDOM, PROBING, FASTEST };

/* PROBING: WithProbes(PickRandom, 1) at 0.1 requests per server per tick
 * (lockstep_seed.py); FASTEST: FastestProbe() at 0.4; RANDOM: PickRandom at
 * 1.5. split: lbsim sends the WithProbes probes at send time, as the seed
 * does (pick_plan.h). */
static void lockstep(enum mode mode, bool split, bool expect_match) {
  static const char *const seed_mode[] = {"", "probing", "fastest"};
  static const char *const pickers[] = {"random", "probing(random, probes=1)", "fastest_probe"};
  static const int totals[] = {180, 12, 48}; /* round(rate * 2 servers * 60 ticks) */
  bool probing = mode != RANDOM;
  /* The notebook sits in shared/ beside the checkout (CI lays it there). */
  const char *nb = getenv("LB_SEED_NOTEBOOK");
  if (!nb)
    nb = access(LB_SOURCE_DIR "/../shared/seed/000_9d0b91919d02c1e1.txt", R_OK) == 0
             ? LB_SOURCE_DIR "/../shared/seed/000_9d0b91919d02c1e1.txt"
             : "/work/shared/seed/000_9d0b91919d02c1e1.txt";
  const char *py = getenv("LB_SEED_PYTHON") ? getenv("LB_SEED_PYTHON") : "/usr/bin/python3";
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), "'%s' -c 'import numpy, pandas, scipy' 2>/dev/null", py);
  if (access(nb, R_OK) != 0 || system(cmd) != 0) {
    printf("skipped: needs the seed notebook (%s) and %s with numpy, pandas, scipy\n", nb, py);
    skip();
  }
  char dir[] = "/tmp/test_sim_lockstep.XXXXXX";
  assert_non_null(mkdtemp(dir));
  snprintf(cmd, sizeof(cmd),
           "LB_SEED_NOTEBOOK='%s' bash '%s/tools/seed_reference/run_seed.sh' --model-dir '%s'",
           nb, LB_SOURCE_DIR, dir);
  assert_int_equal(system(cmd), 0);
  nseed = nsim = 0;
  server_draws[0] = server_draws[1] = 0;
  int rc = read_seed(dir, seed_mode[mode]);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(rc, 0);
  assert_true(nseed > totals[mode] / 2);

  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  snprintf(sc.name, sizeof(sc.name), "lockstep");
  const char *picker = pickers[mode];
  snprintf(sc.picker, sizeof(sc.picker), "%s", picker);
  sc.servers = 2;
  sc.clients = 2;
  sc.subset_size = 1;
  sc.total_ticks = TICKS;
  sc.mean_threads = 3;
  sc.data_frequency = 1;
  sc.server_reset_probability = 0;
  sc.network_reset_probability = 0;
  /* The k-th request at (7 * k) % 60, round(rate * 2 * 60) of them; in tick
   * order, clients in turn. */
  int total = totals[mode];
  static double ticks[3 * TICKS];
  static struct lb_arrival items[3 * TICKS];
  for (int k = 0; k < total; k++)
    ticks[k] = (7 * k) % TICKS;
  qsort(ticks, (size_t)total, sizeof(double), cmp_double);
  for (int k = 0; k < total; k++)
    items[k] = (struct lb_arrival){.tick = ticks[k], .client = k % 2};
  struct lb_arrivals arrivals = {.items = items, .n = (size_t)total};
  struct sim_hooks hooks = {.gamma = fixed_gamma,
                            .uniform = fixed_uniform,
                            .server_params = fixed_server,
                            .channel_mean = fixed_channel,
                            .subset = fixed_subset};
  char err[512];
  struct lb_pick_plan plan;
  assert_int_equal(lb_pick_plan_init(&plan, picker, split, "lockstep", err, sizeof(err)), 0);
  assert_true(plan.send_time_probes == (mode == PROBING && split));
  struct sim_options opt = {.plan = &plan, .arrivals = &arrivals, .hooks = &hooks,
                            .on_record = keep};
  struct sim_run *run = NULL;
  assert_int_equal(sim_run_new(&sc, 0, &opt, &run, err, sizeof(err)), 0);
  assert_int_equal(sim_run_execute(run, err, sizeof(err)), 0);
  sim_run_free(run);
  lb_pick_plan_close(&plan);

  bool match = nsim == nseed;
  int probes = 0, first_diff = -1, diff_col = 0;
  for (int i = 0; match && i < nseed; i++) {
    probes += strcmp(seed_rows[i].cell[1], "True") == 0;
    for (int c = 0; c < NCOLS && first_diff < 0; c++)
      if (!same_cell(seed_rows[i].cell[c], sim_rows[i].cell[c])) {
        first_diff = i;
        diff_col = c;
      }
  }
  match = match && first_diff < 0;
  if (expect_match && !match) {
    if (nsim != nseed)
      fail_msg("%d records from the seed, %d from lbsim", nseed, nsim);
    fail_msg("record %d, %s: seed '%s', lbsim '%s'", first_diff, cols[diff_col],
             seed_rows[first_diff].cell[diff_col], sim_rows[first_diff].cell[diff_col]);
  }
  assert_true(match == expect_match);
  if (probing && expect_match)
    assert_true(probes > 0);
}

static void test_lockstep_random(void **state) {
  (void)state;
  lockstep(RANDOM, true, true);
}

/* WithProbes sends its probe at Client.send, when the channel is empty
 * then: lbsim's send-time probes match the seed; probes decided at the
 * client's tick (--no-send-time-probes) do not. */
static void test_lockstep_probing(void **state) {
  (void)state;
  lockstep(PROBING, true, true);
  lockstep(PROBING, false, false);
}

/* FastestProbe sends its probe from the client's tick, and the request
 * sees the probe complete on the client's next tick. */
static void test_lockstep_fastest_probe(void **state) {
  (void)state;
  lockstep(FASTEST, true, true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lockstep_random),
      cmocka_unit_test(test_lockstep_probing),
      cmocka_unit_test(test_lockstep_fastest_probe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
