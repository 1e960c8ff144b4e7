/* lbsim's command line: byte-identical output whatever --jobs, run r seeded
 * with S + r, every catalog scenario runs, clear errors, the seed's qcut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_cli.h"
#include "sim_score.h"

static char tmpdir[256];

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sim_cli.XXXXXX");
  return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void scenario(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/scenarios/%s.yaml", LB_SOURCE_DIR, name);
}

/* Runs lbsim with argv (NULL-terminated); returns the status; stdout and
 * stderr text into out/err when given. */
static int lbsim(const char **args, char *out, size_t outlen, char *err, size_t errlen) {
  char *argv[64];
  int argc = 0;
  argv[argc++] = (char *)"lbsim";
  for (; args[argc - 1] != NULL && argc < 63; argc++)
    argv[argc] = (char *)args[argc - 1];
  argv[argc] = NULL;
  struct sim_cli cli;
  char perr[1024] = "";
  FILE *o = tmpfile(), *e = tmpfile();
  assert_non_null(o);
  assert_non_null(e);
  int status;
  if (sim_cli_parse(argc, argv, &cli, perr, sizeof(perr)) < 0) {
    fprintf(e, "lbsim: %s\n", perr);
    status = 2;
  } else {
    status = sim_cli_run(&cli, o, e);
  }
  free(cli.scenarios);
  FILE *fs[2] = {o, e};
  char *bufs[2] = {out, err};
  size_t lens[2] = {outlen, errlen};
  for (int i = 0; i < 2; i++) {
    if (bufs[i] != NULL) {
      rewind(fs[i]);
      size_t n = fread(bufs[i], 1, lens[i] - 1, fs[i]);
      bufs[i][n] = '\0';
    }
    fclose(fs[i]);
  }
  return status;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *b = malloc((size_t)n + 1);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
  b[n] = '\0';
  fclose(f);
  return b;
}

static int count_lines(const char *s) {
  int n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static void test_jobs_identical(void **state) {
  (void)state;
  char random_path[512], probe_path[512], s1[512], s2[512], r1[512], r2[512];
  scenario(random_path, sizeof(random_path), "Random");
  scenario(probe_path, sizeof(probe_path), "ProbingHcl");
  snprintf(s1, sizeof(s1), "%s/j1.csv", tmpdir);
  snprintf(s2, sizeof(s2), "%s/j2.csv", tmpdir);
  snprintf(r1, sizeof(r1), "%s/j1_%%s_%%r.csv", tmpdir);
  snprintf(r2, sizeof(r2), "%s/j2_%%s_%%r.csv", tmpdir);
  const char *a1[] = {random_path, probe_path, "--set", "total_ticks=40", "--runs", "3",
                      "--jobs", "1", "--quiet", "--summary-csv", s1, "--requests-csv", r1, NULL};
  const char *a2[] = {random_path, probe_path, "--set", "total_ticks=40", "--runs", "3",
                      "--jobs", "2", "--quiet", "--summary-csv", s2, "--requests-csv", r2, NULL};
  assert_int_equal(lbsim(a1, NULL, 0, NULL, 0), 0);
  assert_int_equal(lbsim(a2, NULL, 0, NULL, 0), 0);
  char *x = slurp(s1), *y = slurp(s2);
  assert_non_null(x);
  assert_non_null(y);
  assert_int_equal(count_lines(x), 1 + 2 * 3);
  assert_string_equal(x, y);
  free(x);
  free(y);
  char p1[512], p2[512];
  snprintf(p1, sizeof(p1), "%s/j1_ProbingHcl_2.csv", tmpdir);
  snprintf(p2, sizeof(p2), "%s/j2_ProbingHcl_2.csv", tmpdir);
  x = slurp(p1);
  y = slurp(p2);
  assert_non_null(x);
  assert_non_null(y);
  assert_true(count_lines(x) > 10);
  assert_string_equal(x, y);
  free(x);
  free(y);
}

/* Run r is seeded with S + r: run 1 of seed 5 is run 0 of seed 6. */
static void test_seed_plus_run(void **state) {
  (void)state;
  char path[512], out5[16384], out6[16384];
  scenario(path, sizeof(path), "Random");
  const char *a5[] = {path, "--set", "total_ticks=30", "--runs", "2", "--seed", "5", "--quiet",
                      NULL};
  const char *a6[] = {path, "--set", "total_ticks=30", "--seed", "6", "--quiet", NULL};
  assert_int_equal(lbsim(a5, out5, sizeof(out5), NULL, 0), 0);
  assert_int_equal(lbsim(a6, out6, sizeof(out6), NULL, 0), 0);
  /* Compare the figures before the ",run,seed" columns. */
  char *row5 = strchr(strchr(out5, '\n') + 1, '\n') + 1; /* run 1 */
  char *row6 = strchr(out6, '\n') + 1;
  char *end5 = strstr(row5, ",1,6,"), *end6 = strstr(row6, ",0,6,");
  assert_non_null(end5);
  assert_non_null(end6);
  assert_int_equal(end5 - row5, end6 - row6);
  assert_memory_equal(row5, row6, (size_t)(end5 - row5));
}

/* --fleet-out writes the fleet a run made; --fleet with it makes the same
 * run, byte for byte (the fleet's draws are still made); another fleet
 * makes another run on the same seed. */
static void test_fleet_round_trip(void **state) {
  (void)state;
  char path[512], fo[512], f0[512], f1[512], r0[512], rb[512], sa[512], sb[512], sc[512];
  scenario(path, sizeof(path), "FastestProbe2");
  snprintf(fo, sizeof(fo), "%s/fleet_%%r.txt", tmpdir);
  snprintf(f0, sizeof(f0), "%s/fleet_0.txt", tmpdir);
  snprintf(f1, sizeof(f1), "%s/fleet_1.txt", tmpdir);
  snprintf(r0, sizeof(r0), "%s/req_%%r.csv", tmpdir);
  snprintf(rb, sizeof(rb), "%s/req_back.csv", tmpdir);
  snprintf(sa, sizeof(sa), "%s/sa.csv", tmpdir);
  snprintf(sb, sizeof(sb), "%s/sb.csv", tmpdir);
  snprintf(sc, sizeof(sc), "%s/sc.csv", tmpdir);
  const char *made[] = {path, "--set", "total_ticks=40", "--runs", "2", "--seed", "7", "--quiet",
                        "--fleet-out", fo, "--requests-csv", r0, "--summary-csv", sa, NULL};
  const char *back[] = {path, "--set", "total_ticks=40", "--seed", "7", "--quiet", "--fleet", f0,
                        "--requests-csv", rb, "--summary-csv", sb, NULL};
  const char *other[] = {path, "--set", "total_ticks=40", "--seed", "7", "--quiet", "--fleet",
                         f1, "--summary-csv", sc, NULL};
  assert_int_equal(lbsim(made, NULL, 0, NULL, 0), 0);
  assert_int_equal(lbsim(back, NULL, 0, NULL, 0), 0);
  assert_int_equal(lbsim(other, NULL, 0, NULL, 0), 0);
  char *fleet = slurp(f0);
  assert_non_null(fleet);
  /* two comment lines saying what the lines are, then the fleet */
  assert_memory_equal(fleet, "# lbsim --fleet-out", strlen("# lbsim --fleet-out"));
  const char *head = "\nfleet FastestProbe2 run 0 seed 7\nserver ";
  assert_non_null(strstr(fleet, head));
  assert_int_equal(count_lines(fleet), 2 + 1 + 40 + 40);
  free(fleet);
  char name[600];
  snprintf(name, sizeof(name), "%s/req_0.csv", tmpdir);
  char *x = slurp(name), *y = slurp(rb);
  assert_non_null(x);
  assert_non_null(y);
  assert_true(count_lines(x) > 100);
  assert_string_equal(x, y);
  free(x);
  free(y);
  char *a = slurp(sa), *b = slurp(sb), *c = slurp(sc);
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(c);
  char *row_a = strchr(a, '\n') + 1, *row_b = strchr(b, '\n') + 1, *row_c = strchr(c, '\n') + 1;
  assert_memory_equal(row_a, row_b, strlen(row_b));
  assert_true(strcmp(row_b, row_c) != 0);
  free(a);
  free(b);
  free(c);
  /* Without --quiet each run says which fleet it ran on (runs 0 and 1 of
   * a file of one fleet: both on it). */
  const char *said[] = {path, "--set", "total_ticks=20", "--runs", "2", "--fleet", f1,
                        "--summary-csv", sc, NULL};
  char err[4096];
  assert_int_equal(lbsim(said, NULL, 0, err, sizeof(err)), 0);
  char want[1200];
  for (int r = 0; r < 2; r++) {
    snprintf(want, sizeof(want),
             "lbsim: FastestProbe2 run %d: fleet 1 of 1 in %s (line 3: FastestProbe2 run 1 "
             "seed 8)\n",
             r, f1);
    if (strstr(err, want) == NULL)
      fail_msg("no '%s' in '%s'", want, err);
  }
}

/* A fleet by hand: every channel goes to server 1, so every request is
 * served there; a fleet of another shape is refused. */
static void test_fleet_by_hand(void **state) {
  (void)state;
  char path[512], fleet[512], req[512], err[2048];
  scenario(path, sizeof(path), "Random");
  snprintf(fleet, sizeof(fleet), "%s/hand.txt", tmpdir);
  snprintf(req, sizeof(req), "%s/hand_req.csv", tmpdir);
  FILE *f = fopen(fleet, "w");
  assert_non_null(f);
  fputs("fleet by hand\nserver 4 3 1\nserver 4 3 1\nclient 1:1 1:2\nclient 1:1.5 1:1\n", f);
  assert_int_equal(fclose(f), 0);
  const char *args[] = {path, "--set", "servers=2", "--set", "clients=2", "--set",
                        "subset_size=2", "--set", "total_ticks=30", "--set",
                        "mean_requests_per_server_per_tick=0.5", "--set", "data_frequency=1",
                        "--quiet", "--fleet", fleet, "--requests-csv", req, NULL};
  assert_int_equal(lbsim(args, NULL, 0, err, sizeof(err)), 0);
  char *x = slurp(req);
  assert_non_null(x);
  assert_true(count_lines(x) > 10);
  assert_null(strstr(x, "Server 0"));
  assert_non_null(strstr(x, "Server 1"));
  free(x);
  const char *wrong[] = {path, "--set", "total_ticks=30", "--quiet", "--fleet", fleet, NULL};
  assert_int_equal(lbsim(wrong, NULL, 0, err, sizeof(err)), 1);
  assert_non_null(strstr(err, "hand.txt:1: fleet 'by hand' has 2 servers, 2 clients of 2 "
                              "channels; scenario 'Random' has 40, 40 of 12"));
}

static void test_every_catalog_scenario_runs(void **state) {
  (void)state;
  char pat[600], sum[512], cat[512];
  snprintf(cat, sizeof(cat), "%s/scenarios", LB_SOURCE_DIR);
  snprintf(pat, sizeof(pat), "%s/*.yaml", cat);
  snprintf(sum, sizeof(sum), "%s/all.csv", tmpdir);
  glob_t g;
  assert_int_equal(glob(pat, 0, NULL, &g), 0);
  int n = (int)g.gl_pathc;
  globfree(&g);
  static char err[65536];
  /* Faults at ticks past 12 would not validate: Faults.yaml runs whole in
   * test_faults_scenario. */
  const char *args[] = {"--all", "--catalog", cat, "--set", "total_ticks=12", "--set",
                        "max_cooldown=30", "--set", "faults=none", "--runs", "1", "--jobs", "2",
                        "--quiet", "--summary-csv", sum, NULL};
  int status = lbsim(args, NULL, 0, err, sizeof(err));
  if (status != 0)
    fail_msg("lbsim --all: %s", err);
  char *x = slurp(sum);
  assert_non_null(x);
  assert_int_equal(count_lines(x), 1 + n);
  free(x);
}

static void test_errors(void **state) {
  (void)state;
  char path[512], err[4096];
  scenario(path, sizeof(path), "Random");
  const char *missing[] = {"/nonexistent/nope.yaml", NULL};
  assert_int_equal(lbsim(missing, NULL, 0, err, sizeof(err)), 1);
  assert_non_null(strstr(err, "/nonexistent/nope.yaml"));

  const char *field[] = {path, "--set", "no_such_field=3", NULL};
  assert_int_equal(lbsim(field, NULL, 0, err, sizeof(err)), 1);
  assert_non_null(strstr(err, "no_such_field"));

  const char *value[] = {path, "--set", "servers=many", NULL};
  assert_int_equal(lbsim(value, NULL, 0, err, sizeof(err)), 1);
  assert_non_null(strstr(err, "servers"));

  const char *expr[] = {path, "--set", "picker=weighted(", NULL};
  assert_int_equal(lbsim(expr, NULL, 0, err, sizeof(err)), 1);
  assert_non_null(strstr(err, "picker"));

  const char *pattern[] = {path, "--runs", "2", "--requests-csv", "/tmp/x.csv", NULL};
  assert_int_equal(lbsim(pattern, NULL, 0, err, sizeof(err)), 2);
  assert_non_null(strstr(err, "%r"));

  const char *opt[] = {path, "--bogus", NULL};
  assert_int_equal(lbsim(opt, NULL, 0, err, sizeof(err)), 2);
  assert_non_null(strstr(err, "--bogus"));

  const char *jobs[] = {path, "--jobs", "0", NULL};
  assert_int_equal(lbsim(jobs, NULL, 0, err, sizeof(err)), 2);

  const char *none[] = {NULL};
  assert_int_equal(lbsim(none, NULL, 0, err, sizeof(err)), 2);
}

static void test_catalog_name_and_score(void **state) {
  (void)state;
  char cat[512];
  static char out[65536];
  snprintf(cat, sizeof(cat), "%s/scenarios", LB_SOURCE_DIR);
  const char *args[] = {"Random", "LeastClientRequestsInFlight", "--catalog", cat, "--set",
                        "total_ticks=40", "--runs", "2", "--score", "--quiet", NULL};
  assert_int_equal(lbsim(args, out, sizeof(out), NULL, 0), 0);
  /* --score alone prints the table, not the rows. */
  assert_null(strstr(out, "mean_latency,"));
  assert_non_null(strstr(out, "total_score"));
  assert_non_null(strstr(out, "Random"));
  assert_non_null(strstr(out, "LeastClientRequestsInFlight"));
}

static void test_expand(void **state) {
  (void)state;
  char buf[64];
  assert_int_equal(sim_cli_expand("out/%s-%r.csv", "Random", 3, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "out/Random-3.csv");
  assert_int_equal(sim_cli_expand("100%%_%r", "x", 12, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "100%_12");
  assert_true(sim_cli_expand("%s%s%s", "0123456789012345678901234567890", 0, buf, sizeof(buf)) <
              0);
}

/* pandas: qcut([1..10], 5, labels=[5,4,3,2,1]) -> edges 1, 2.8, 4.6, 6.4,
 * 8.2, 10: 1-2 -> 5, 3-4 -> 4, 5-6 -> 3, 7-8 -> 2, 9-10 -> 1. */
static void test_qcut(void **state) {
  (void)state;
  double v[10] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
  int want[10] = {1, 5, 1, 5, 2, 4, 2, 4, 3, 3};
  int got[10];
  sim_score_qcut(v, 10, got);
  assert_memory_equal(got, want, sizeof(want));
  double w[3] = {2.0, NAN, 1.0};
  int g3[3];
  sim_score_qcut(w, 3, g3);
  assert_int_equal(g3[0], 1);
  assert_int_equal(g3[1], 0);
  assert_int_equal(g3[2], 5);
}

/* The progress line: rate in requests/s with k or M, the main ticks'
 * time left at the rate so far, cooling down past them. */
static void test_progress_line(void **state) {
  (void)state;
  char buf[256];
  struct sim_progress p = {"Random", 2, 250, 1000, 12000000, 10.0};
  sim_cli_format_progress(buf, sizeof(buf), &p);
  /* 250 ticks in 10 s: 750 more take 30 s */
  assert_string_equal(buf, "lbsim: Random run 2: tick 250/1000, 12000000 requests, "
                           "1.2M requests/s, 30 s left");
  p = (struct sim_progress){"X", 0, 3, 7, 4500, 2.0};
  sim_cli_format_progress(buf, sizeof(buf), &p);
  /* 2 s * 4 / 3 = 2.67 s: rounded up */
  assert_string_equal(buf, "lbsim: X run 0: tick 3/7, 4500 requests, 2.2k requests/s, 3 s left");
  p = (struct sim_progress){"X", 0, 9, 7, 10, 4.0};
  sim_cli_format_progress(buf, sizeof(buf), &p);
  assert_string_equal(buf, "lbsim: X run 0: tick 9/7, 10 requests, 2.5 requests/s, cooling down");
  p = (struct sim_progress){"X", 0, 0, 7, 0, 0};
  sim_cli_format_progress(buf, sizeof(buf), &p);
  assert_string_equal(buf, "lbsim: X run 0: tick 0/7, 0 requests, 0.0 requests/s, time left unknown");
}

/* The catalog's fault scenario: a kill fails requests, a partition times
 * them out, and every request is accounted for. */
static void test_faults_scenario(void **state) {
  (void)state;
  char path[600], sum[512];
  static char err[65536];
  snprintf(path, sizeof(path), "%s/scenarios/Faults.yaml", LB_SOURCE_DIR);
  snprintf(sum, sizeof(sum), "%s/faults.csv", tmpdir);
  const char *args[] = {path, "--runs", "1", "--quiet", "--summary-csv", sum, NULL};
  if (lbsim(args, NULL, 0, err, sizeof(err)) != 0)
    fail_msg("lbsim Faults: %s", err);
  char *x = slurp(sum);
  assert_non_null(x);
  const char *names[] = {"requests", "completed", "failed", "timed_out"};
  long v[4] = {-1, -1, -1, -1};
  char *row = strchr(x, '\n');
  assert_non_null(row);
  *row++ = '\0';
  for (char *h = x, *c = row; h != NULL && c != NULL;) {
    char *hn = strchr(h, ','), *cn = strchr(c, ',');
    size_t hl = hn ? (size_t)(hn - h) : strlen(h);
    for (int k = 0; k < 4; k++)
      if (strlen(names[k]) == hl && strncmp(h, names[k], hl) == 0)
        v[k] = strtol(c, NULL, 10);
    h = hn ? hn + 1 : NULL;
    c = cn ? cn + 1 : NULL;
  }
  free(x);
  assert_true(v[0] > 0);
  assert_true(v[2] > 100); /* the kill of server 3 for 20 ticks */
  assert_true(v[3] > 100); /* the partition's requests, at timeout 100 */
  assert_int_equal(v[0], v[1] + v[2] + v[3]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_progress_line),
      cmocka_unit_test(test_jobs_identical),
      cmocka_unit_test(test_seed_plus_run),
      cmocka_unit_test(test_fleet_round_trip),
      cmocka_unit_test(test_fleet_by_hand),
      cmocka_unit_test(test_every_catalog_scenario_runs),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_catalog_name_and_score),
      cmocka_unit_test(test_expand),
      cmocka_unit_test(test_qcut),
      cmocka_unit_test(test_faults_scenario),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
