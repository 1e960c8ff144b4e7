/* harness_netem: the tc commands planned for a fleet, the seed-delay
 * tables, what a missing netem looks like, and (as root) applying a plan
 * to a real netns fleet. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness_deploy.h"
#include "harness_netem.h"
#include "rng.h"

/* 2 servers, 2 clients, every client sees every server. With both rtt
 * means at 0 the seed's randGamma gives 1 tick, so every channel has mean
 * (1 + 1) / 2 = 1 tick and per-request delay floor(1 + Gamma(1/3)). */
static void small_scenario(struct lb_scenario *sc) {
  lb_scenario_defaults(sc);
  snprintf(sc->name, sizeof(sc->name), "small");
  snprintf(sc->picker, sizeof(sc->picker), "round_robin");
  sc->servers = 2;
  sc->clients = 2;
  sc->subset_size = 0;
  sc->mean_server_rtt = 0;
  sc->mean_channel_rtt = 0;
  sc->tick_ns = 10000000;
  sc->seed = 7;
  sc->delay = LB_DELAY_NETEM;
}

static char **plan_lines(const struct lb_netem_plan *plan) {
  char **lines = calloc(plan->ncmds + 1, sizeof(*lines));
  assert_non_null(lines);
  for (size_t i = 0; i < plan->ncmds; i++) {
    char buf[1024];
    assert_int_equal(lb_netem_plan_format(plan, i, buf, sizeof(buf)), 0);
    lines[i] = strdup(buf);
  }
  return lines;
}

static void free_lines(char **lines) {
  for (size_t i = 0; lines[i] != NULL; i++)
    free(lines[i]);
  free(lines);
}

static void test_plan_exact(void **state) {
  (void)state;
  struct lb_scenario sc;
  small_scenario(&sc);
  struct lb_netem_options o;
  lb_netem_options_defaults(&o);
  o.fleet = "t1";
  o.client_procs = 2;
  o.dist_dir = "/tmp/lbt-tables";
  struct lb_netem_plan *plan = NULL;
  char err[512] = "";
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), 0);
  /* Per host: del, root, default class, and 3 commands per destination. */
  assert_int_equal(plan->ncmds, 4 * (3 + 3 * 2));
  assert_int_equal(plan->ntables, 1); /* every channel is the same */
  assert_string_equal(plan->dist_dir, "/tmp/lbt-tables");
  const char *table = plan->tables[0].name;
  char netem[256];
  snprintf(netem, sizeof(netem),
           "ip netns exec lbt-t1-c0 tc qdisc add dev lb0 parent 1:3 handle 3: netem limit 100000 "
           "delay 11321us 14707us distribution %s",
           table);
  char **l = plan_lines(plan);
  assert_string_equal(l[0],
                      "ip netns exec lbt-t1-c0 tc qdisc del dev lb0 root 2>/dev/null || true");
  assert_string_equal(l[1],
                      "ip netns exec lbt-t1-c0 tc qdisc add dev lb0 root handle 1: htb default 1");
  assert_string_equal(l[2],
                      "ip netns exec lbt-t1-c0 tc class add dev lb0 parent 1: classid 1:1 htb "
                      "rate 10gbit");
  assert_string_equal(l[3],
                      "ip netns exec lbt-t1-c0 tc class add dev lb0 parent 1: classid 1:2 htb "
                      "rate 10gbit");
  assert_string_equal(l[5], "ip netns exec lbt-t1-c0 tc filter add dev lb0 parent 1: protocol ip "
                            "prio 1 u32 match ip dst 10.77.1.1/32 flowid 1:2");
  assert_string_equal(l[7], netem);
  assert_string_equal(l[8], "ip netns exec lbt-t1-c0 tc filter add dev lb0 parent 1: protocol ip "
                            "prio 1 u32 match ip dst 10.77.1.2/32 flowid 1:3");
  /* Client process 1 comes next, then the servers' responses to clients. */
  assert_string_equal(l[9],
                      "ip netns exec lbt-t1-c1 tc qdisc del dev lb0 root 2>/dev/null || true");
  assert_string_equal(l[18 + 8], "ip netns exec lbt-t1-s0 tc filter add dev lb0 parent 1: protocol "
                                 "ip prio 1 u32 match ip dst 10.77.128.2/32 flowid 1:3");
  assert_string_equal(l[27],
                      "ip netns exec lbt-t1-s1 tc qdisc del dev lb0 root 2>/dev/null || true");
  free_lines(l);
  lb_netem_plan_free(plan);

  /* normal: tc's table, the seed delay's mean and standard deviation. */
  o.dist = LB_NETEM_DIST_NORMAL;
  o.dist_dir = NULL;
  o.client_procs = 1;
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), 0);
  assert_int_equal(plan->ntables, 0);
  assert_string_equal(plan->dist_dir, "");
  l = plan_lines(plan);
  assert_string_equal(l[4],
                      "ip netns exec lbt-t1-c0 tc qdisc add dev lb0 parent 1:2 handle 2: netem "
                      "limit 100000 delay 11321us 4676us distribution normal");
  free_lines(l);
  lb_netem_plan_free(plan);

  /* none: the mean only. */
  o.dist = LB_NETEM_DIST_NONE;
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), 0);
  l = plan_lines(plan);
  assert_string_equal(l[4],
                      "ip netns exec lbt-t1-c0 tc qdisc add dev lb0 parent 1:2 handle 2: netem "
                      "limit 100000 delay 11321us");
  free_lines(l);
  lb_netem_plan_free(plan);
}

static void test_plan_rate(void **state) {
  (void)state;
  struct lb_scenario sc;
  small_scenario(&sc);
  struct lb_netem_options o;
  lb_netem_options_defaults(&o);
  o.fleet = "t2";
  o.client_procs = 1;
  o.delay = false;
  o.rate = "100mbit";
  struct lb_netem_plan *plan = NULL;
  char err[512] = "";
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), 0);
  assert_int_equal(plan->ncmds, 6);
  char **l = plan_lines(plan);
  /* 100 Mbit/s: 10 ms of it is 125000 bytes. */
  assert_string_equal(l[1], "ip netns exec lbt-t2-br tc qdisc add dev s0 root handle 1: tbf rate "
                            "100mbit burst 125000 latency 100ms");
  assert_string_equal(l[5], "ip netns exec lbt-t2-br tc qdisc add dev c0 root handle 1: tbf rate "
                            "100mbit burst 125000 latency 100ms");
  free_lines(l);
  lb_netem_plan_free(plan);

  o.rate = "100 mbit";
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), -EINVAL);
  assert_null(plan);
  assert_non_null(strstr(err, "rate '100 mbit'"));
  o.rate = NULL;
  o.fleet = "Bad-Fleet";
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "fleet id 'Bad-Fleet'"));
  /* gamma without a folder for its tables */
  o.fleet = "t2";
  o.delay = true;
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "--dist-dir"));
}

static void test_parse_rate(void **state) {
  (void)state;
  double b = 0;
  assert_int_equal(lb_netem_parse_rate("100mbit", &b), 0);
  assert_true(b == 1e8);
  assert_int_equal(lb_netem_parse_rate("2.5gbit", &b), 0);
  assert_true(b == 2.5e9);
  assert_int_equal(lb_netem_parse_rate("500kbps", &b), 0);
  assert_true(b == 4e6);
  assert_int_equal(lb_netem_parse_rate("100", &b), -EINVAL);
  assert_int_equal(lb_netem_parse_rate("mbit", &b), -EINVAL);
  assert_int_equal(lb_netem_parse_rate("-1mbit", &b), -EINVAL);
  assert_int_equal(lb_netem_parse_rate("1mbit;reboot", &b), -EINVAL);
}

/* How often the table gives each whole number of ticks. */
static void table_freq(const int16_t *v, double mu, double scale, double *freq, int n) {
  for (int k = 0; k < n; k++)
    freq[k] = 0;
  for (int i = 0; i < LB_NETEM_TABLE_SIZE; i++) {
    double ticks = mu + scale * v[i] / LB_NETEM_DIST_SCALE;
    long k = lround(ticks);
    assert_true(fabs(ticks - (double)k) < 0.01); /* the seed's delays are whole ticks */
    assert_true(k >= 1);
    if (k < n)
      freq[k] += 1.0 / LB_NETEM_TABLE_SIZE;
  }
}

static void test_seed_table(void **state) {
  (void)state;
  static int16_t v[LB_NETEM_TABLE_SIZE];
  double mu, scale, sd;
  double m = 1;
  assert_int_equal(lb_netem_seed_table(&m, 1, v, &mu, &scale, &sd), 0);
  /* E[floor(1 + G)] = 1 + sum_k P(G >= k), G ~ Gamma(1/3, 1). */
  double mean = 1;
  for (int k = 1; k < 200; k++)
    mean += gsl_cdf_gamma_Q(k, 1.0 / 3, 1.0);
  assert_true(fabs(mu - mean) < 2e-3);
  assert_true(scale >= sd && sd > 0);

  /* The table against the seed's own randGamma (rng.c), for several means. */
  const double means[] = {1, 1.5, 2, 3.5, 8};
  struct lb_rng *r = NULL;
  assert_int_equal(lb_rng_new(11, &r), 0);
  for (size_t t = 0; t < sizeof(means) / sizeof(means[0]); t++) {
    double freq[64], draws[64] = {0};
    assert_int_equal(lb_netem_seed_table(&means[t], 1, v, &mu, &scale, &sd), 0);
    table_freq(v, mu, scale, freq, 64);
    const int n = 200000;
    double sum = 0;
    for (int i = 0; i < n; i++) {
      int k = lb_rng_gamma_seed(r, means[t], LB_GAMMA_VARIANCE, LB_GAMMA_MIN);
      sum += k;
      if (k < 64)
        draws[k] += 1.0 / n;
    }
    for (int k = 1; k < 64; k++)
      assert_true(fabs(freq[k] - draws[k]) < 0.006);
    assert_true(fabs(mu - sum / n) < 0.02 * means[t]);
  }
  lb_rng_free(r);

  /* A mixture is the average of its channels. */
  double fa[64], fb[64], fm[64];
  double one = 1, four = 4, both[] = {1, 4};
  assert_int_equal(lb_netem_seed_table(&one, 1, v, &mu, &scale, &sd), 0);
  table_freq(v, mu, scale, fa, 64);
  assert_int_equal(lb_netem_seed_table(&four, 1, v, &mu, &scale, &sd), 0);
  table_freq(v, mu, scale, fb, 64);
  assert_int_equal(lb_netem_seed_table(both, 2, v, &mu, &scale, &sd), 0);
  table_freq(v, mu, scale, fm, 64);
  for (int k = 1; k < 64; k++)
    assert_true(fabs(fm[k] - (fa[k] + fb[k]) / 2) < 2.0 / LB_NETEM_TABLE_SIZE);
  assert_int_equal(lb_netem_seed_table(both, 0, v, &mu, &scale, &sd), -EINVAL);
}

static void test_tables_written(void **state) {
  (void)state;
  char dir[] = "/tmp/lbt-netem-XXXXXX";
  assert_non_null(mkdtemp(dir));
  struct lb_scenario sc;
  small_scenario(&sc);
  sc.mean_server_rtt = 2; /* channels of several means: several tables */
  sc.mean_channel_rtt = 2;
  sc.clients = 6;
  struct lb_netem_options o;
  lb_netem_options_defaults(&o);
  o.fleet = "t3";
  o.client_procs = 3;
  o.dist_dir = dir;
  struct lb_netem_plan *plan = NULL;
  char err[512] = "";
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), 0);
  assert_true(plan->ntables >= 1);
  assert_int_equal(lb_netem_plan_write_tables(plan, err, sizeof(err)), 0);
  for (size_t t = 0; t < plan->ntables; t++) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.dist", dir, plan->tables[t].name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    /* tc's format: '#' comments, then whitespace-separated shorts. */
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
      if (line[0] == '#')
        continue;
      char *p = line, *end;
      for (long x = strtol(p, &end, 10); end != p; x = strtol(p, &end, 10)) {
        assert_true(x >= -32768 && x <= 32767);
        assert_int_equal(x, plan->tables[t].values[n]);
        n++;
        p = end;
      }
    }
    fclose(f);
    assert_int_equal(n, LB_NETEM_TABLE_SIZE);
    unlink(path);
  }
  /* Every netem line names a table the plan wrote. */
  for (size_t i = 0; i < plan->ncmds; i++) {
    const char *d = strstr(plan->cmds[i].args, "distribution ");
    if (d == NULL)
      continue;
    bool found = false;
    for (size_t t = 0; t < plan->ntables; t++)
      found |= strcmp(d + strlen("distribution "), plan->tables[t].name) == 0;
    assert_true(found);
  }
  lb_netem_plan_free(plan);
  rmdir(dir);
}

static void test_missing_message(void **state) {
  (void)state;
  char msg[512];
  assert_int_equal(
      lb_netem_explain_failure("Error: Specified qdisc kind is unknown.\n", msg, sizeof(msg)), 1);
  assert_string_equal(msg, "netem: this kernel has no netem qdisc (sch_netem missing: 'tc qdisc "
                           "add ... netem' says unknown qdisc); use delay: inproc, or "
                           "--fallback-inproc to run with in-process delay");
  assert_int_equal(lb_netem_explain_failure("Unknown qdisc \"netem\", hence option \"delay\" is "
                                            "unparsable\n",
                                            msg, sizeof(msg)),
                   1);
  assert_string_equal(msg, LB_NETEM_MISSING);
  assert_int_equal(lb_netem_explain_failure("RTNETLINK answers: Operation not permitted\nmore\n",
                                            msg, sizeof(msg)),
                   0);
  assert_string_equal(msg, "netem: tc: RTNETLINK answers: Operation not permitted");

  /* The probe on this machine: either netem works, or one line says why. */
  int rc = lb_netem_probe(msg, sizeof(msg));
  assert_true(rc == 0 || rc == 1);
  assert_null(strchr(msg, '\n'));
  assert_true(strncmp(msg, "netem: ", 7) == 0);
  if (rc == 0 && strstr(msg, "unknown qdisc") != NULL)
    assert_string_equal(msg, LB_NETEM_MISSING);
  print_message("probe: %s\n", msg);
}

/* Removes dir and the files in it. */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d != NULL) {
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
      char path[1024];
      if (e->d_name[0] == '.')
        continue;
      snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* As root: a real fleet, a rate plan applied, a delay plan applied or
 * refused with the one-line message, and nothing left after down. */
static void test_apply_netns(void **state) {
  (void)state;
  if (geteuid() != 0) {
    print_message("SKIPPED: not root\n");
    skip();
  }
  char fleet[16], err[1024] = "";
  snprintf(fleet, sizeof(fleet), "n%d", (int)(getpid() % 100000));
  if (lb_deploy_netns_up(fleet, 2, 1, err, sizeof(err)) != 0) {
    print_message("SKIPPED: netns unavailable: %s\n", err);
    skip();
  }
  struct lb_scenario sc;
  small_scenario(&sc);
  sc.clients = 1;
  struct lb_netem_options o;
  lb_netem_options_defaults(&o);
  o.fleet = fleet;
  o.client_procs = 1;
  o.delay = false;
  o.rate = "1gbit";
  struct lb_netem_plan *plan = NULL;
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), 0);
  int rc = lb_netem_plan_apply(plan, err, sizeof(err));
  if (rc != 0)
    print_message("apply: %s\n", err);
  assert_int_equal(rc, 0);
  /* Applying again replaces what is there. */
  assert_int_equal(lb_netem_plan_apply(plan, err, sizeof(err)), 0);
  lb_netem_plan_free(plan);

  char tables[] = "/tmp/lbt-netem-XXXXXX";
  assert_non_null(mkdtemp(tables));
  o.delay = true;
  o.rate = NULL;
  o.dist_dir = tables;
  assert_int_equal(lb_netem_plan_build(&sc, &o, &plan, err, sizeof(err)), 0);
  assert_int_equal(lb_netem_plan_write_tables(plan, err, sizeof(err)), 0);
  char probe[512];
  int have = lb_netem_probe(probe, sizeof(probe));
  rc = lb_netem_plan_apply(plan, err, sizeof(err));
  if (have == 1) {
    assert_int_equal(rc, 0);
  } else {
    assert_int_equal(rc, -EIO);
    assert_string_equal(err, LB_NETEM_MISSING);
  }
  lb_netem_plan_free(plan);
  /* The harness's one call: the same outcome. */
  rc = lb_netem_fleet_apply(&sc, fleet, 0, 1, tables, err, sizeof(err));
  if (have == 1) {
    assert_int_equal(rc, 0);
  } else {
    assert_int_equal(rc, -ENOTSUP);
    assert_string_equal(err, probe);
  }
  remove_dir(tables);
  assert_int_equal(lb_deploy_netns_down(fleet, err, sizeof(err)), 0);
  char ns[64];
  snprintf(ns, sizeof(ns), "/run/netns/lbt-%s-br", fleet);
  assert_int_equal(access(ns, F_OK), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan_exact),     cmocka_unit_test(test_plan_rate),
      cmocka_unit_test(test_parse_rate),     cmocka_unit_test(test_seed_table),
      cmocka_unit_test(test_tables_written), cmocka_unit_test(test_missing_message),
      cmocka_unit_test(test_apply_netns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
