/* lbsim against the seed's own code, in lockstep: the seed's TestManager
 * (extracted from the notebook at run time by tools/seed_reference) runs
 * with every random draw fixed (tools/seed_reference/lockstep_seed.py says
 * which), lbsim runs with the same fixed draws through its test hooks, and
 * every completed request must match: ticks of each state, the report it
 * carried (utilization, queries, rif, queue ewma, latency, the expected
 * latency from the latency-by-rif table) and the PID weight,
 * through queueing, a server reset that demotes requests, and the cooldown.
 * test_hashstep_first does the same with random-looking draws (hashes, the
 * same on both sides: tools/seed_reference/hashstep_seed.py) on a fleet of
 * several channels a client, where fixed draws would leave paths unvisited.
 * Skipped where the seed notebook or Debian's python3 with numpy, pandas
 * and scipy is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_cdf.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"
#include "sim_engine.h"
#include "pick_plan.h"
#include "rng.h"

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

/* Extracts the seed's model into dir (run_seed.sh --model-dir); skips the
 * test where the notebook or Debian's python3 with numpy, pandas and scipy
 * is missing. The notebook sits in shared/ beside the checkout (CI lays it
 * there). */
static void seed_model(char *dir) {
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
  assert_non_null(mkdtemp(dir));
  snprintf(cmd, sizeof(cmd),
           "LB_SEED_NOTEBOOK='%s' bash '%s/tools/seed_reference/run_seed.sh' --model-dir '%s'",
           nb, LB_SOURCE_DIR, dir);
  assert_int_equal(system(cmd), 0);
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
  char dir[] = "/tmp/test_sim_lockstep.XXXXXX";
  char cmd[2048];
  seed_model(dir);
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
  /* The seed has no timeout: lbsim's default (4 * total_ticks, 240) would
   * time out requests the seed still completes in its long cooldown. */
  sc.timeout_ticks = 1e9;
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

/* ---- Hashed draws: lockstep with random-looking draws on a larger fleet ----
 * tools/seed_reference/hashstep_seed.py says which draw is which hash. */

#define HS_S 6
#define HS_C 5
#define HS_K 3
#define HS_T 60
#define HS_RATE 3.0
#define HS_MAX (HS_C * HS_K)

static uint64_t hs_key(uint64_t kind, uint64_t ent, uint64_t k) {
  uint64_t z = (kind * 1000003 + ent) * 1000003 + k + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static struct {
  long draws[9][HS_MAX + HS_S]; /* per kind and entity */
  int server_rtt[HS_S];
  struct lb_scenario sc;
  char lines[8192][96];
  int n;
} hs;

static int hs_gamma_draw(int kind, int ent, double mean, double var) {
  uint64_t k = (uint64_t)hs.draws[kind][ent]++;
  double u = ((double)(hs_key((uint64_t)kind, (uint64_t)ent, k) >> 11) + 0.5) / 9007199254740992.0;
  return (int)(gsl_cdf_gamma_Pinv(u, (var * mean - 1) / var, 1.0) + 1);
}
static int hs_gamma(void *ctx, enum sim_draw what, int entity, double mean) {
  (void)ctx;
  int kind = what == SIM_DRAW_PROCESSING ? 6 : what == SIM_DRAW_SEND ? 7 : 8;
  return hs_gamma_draw(kind, entity, mean, LB_GAMMA_VARIANCE);
}
static double hs_uniform(void *ctx, enum sim_draw what, int entity) {
  (void)ctx, (void)what, (void)entity;
  return 1; /* no resets */
}
static void hs_server(void *ctx, int s, bool reset, struct lb_server_params *p) {
  (void)ctx, (void)reset;
  p->threads = hs_gamma_draw(1, s, hs.sc.mean_threads, LB_GAMMA_VARIANCE);
  p->mean_processing_time = hs_gamma_draw(1, s, hs.sc.mean_processing_time, LB_GAMMA_VARIANCE);
  p->mean_rtt = hs_gamma_draw(1, s, hs.sc.mean_server_rtt, hs.sc.server_rtt_variance);
  hs.server_rtt[s] = p->mean_rtt;
}
static double hs_channel(void *ctx, int client, int slot, int server) {
  (void)ctx;
  int rtt = hs_gamma_draw(2, client * HS_K + slot, hs.sc.mean_channel_rtt, hs.sc.channel_rtt_variance);
  return (hs.server_rtt[server] + rtt) / 2.0;
}
static void hs_subset(void *ctx, int client, int *servers, int n) {
  (void)ctx;
  for (int i = 0; i < n; i++)
    servers[i] = (int)(hs_key(3, (uint64_t)client, (uint64_t)i) % HS_S);
}
static void hs_record(void *ctx, const struct lb_request_record *r) {
  (void)ctx;
  if (hs.n < (int)(sizeof(hs.lines) / sizeof(hs.lines[0])))
    snprintf(hs.lines[hs.n++], sizeof(hs.lines[0]), "Client %d,Server %d,%s,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f",
             r->client, r->server, r->is_probe ? "True" : "False", r->started_on_tick,
             r->completed_on_tick, r->total_ticks, r->picking_ticks, r->send_ticks,
             r->server_queue_ticks, r->processing_ticks, r->receive_ticks);
}
static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

/* PickFirst on 6 servers, 5 clients of 3 channels (subsets with repeats),
 * 60 ticks at 3 requests per server per tick: queues, cold channels,
 * several channels a client, every delay drawn. */
static void test_hashstep_first(void **state) {
  (void)state;
  char dir[] = "/tmp/test_sim_hashstep.XXXXXX";
  char cmd[2048];
  seed_model(dir);
  const char *py = getenv("LB_SEED_PYTHON") ? getenv("LB_SEED_PYTHON") : "/usr/bin/python3";
  snprintf(cmd, sizeof(cmd),
           "'%s' '%s/tools/seed_reference/hashstep_seed.py' '%s' first %d %d %d %d %g 2>/dev/null; "
           "rm -rf '%s'",
           py, LB_SOURCE_DIR, dir, HS_S, HS_C, HS_K, HS_T, HS_RATE, dir);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  static char seed_lines[8192][96];
  int nseed_lines = 0;
  char line[256];
  while (fgets(line, sizeof(line), p) != NULL && nseed_lines < 8192) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "client,", 7) != 0)
      snprintf(seed_lines[nseed_lines++], sizeof(seed_lines[0]), "%.95s", line);
  }
  assert_int_equal(pclose(p), 0);
  assert_true(nseed_lines > 500);

  memset(&hs, 0, sizeof(hs));
  lb_scenario_defaults(&hs.sc);
  snprintf(hs.sc.name, sizeof(hs.sc.name), "hashstep");
  snprintf(hs.sc.picker, sizeof(hs.sc.picker), "first");
  hs.sc.servers = HS_S;
  hs.sc.clients = HS_C;
  hs.sc.subset_size = HS_K;
  hs.sc.total_ticks = HS_T;
  hs.sc.mean_requests_per_server_per_tick = HS_RATE;
  hs.sc.data_frequency = 1;
  hs.sc.server_reset_probability = 0;
  hs.sc.network_reset_probability = 0;
  hs.sc.timeout_ticks = 1e9; /* the seed has none */
  long n = lrint(HS_RATE * HS_S * HS_T);
  static long ticks[HS_S * HS_T * 4];
  static struct lb_arrival items[HS_S * HS_T * 4];
  for (long k = 0; k < n; k++)
    ticks[k] = (long)(hs_key(4, 0, (uint64_t)k) % HS_T);
  qsort(ticks, (size_t)n, sizeof(long), cmp_long);
  for (long j = 0; j < n; j++)
    items[j] = (struct lb_arrival){.tick = (double)ticks[j],
                                   .client = (int)(hs_key(5, 0, (uint64_t)j) % HS_C)};
  struct lb_arrivals arrivals = {.items = items, .n = (size_t)n};
  struct sim_hooks hooks = {.gamma = hs_gamma, .uniform = hs_uniform, .server_params = hs_server,
                            .channel_mean = hs_channel, .subset = hs_subset};
  char err[512];
  struct lb_pick_plan plan;
  assert_int_equal(lb_pick_plan_init(&plan, "first", true, "hashstep", err, sizeof(err)), 0);
  struct sim_options opt = {.plan = &plan, .arrivals = &arrivals, .hooks = &hooks,
                            .on_record = hs_record};
  struct sim_run *run = NULL;
  assert_int_equal(sim_run_new(&hs.sc, 0, &opt, &run, err, sizeof(err)), 0);
  assert_int_equal(sim_run_execute(run, err, sizeof(err)), 0);
  sim_run_free(run);
  lb_pick_plan_close(&plan);

  for (int i = 0; i < nseed_lines && i < hs.n; i++)
    if (strcmp(seed_lines[i], hs.lines[i]) != 0)
      fail_msg("record %d: seed '%s', lbsim '%s'", i, seed_lines[i], hs.lines[i]);
  assert_int_equal(hs.n, nseed_lines);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lockstep_random),
      cmocka_unit_test(test_lockstep_probing),
      cmocka_unit_test(test_lockstep_fastest_probe),
      cmocka_unit_test(test_hashstep_first),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
