/* compare's real side from logs collected elsewhere: --real-csv lists,
 * --real-dir layouts (lbharness run, requests-R.csv, compose/Kubernetes
 * runR-client-J.csv), refusals, merging a run's client logs and the health
 * that the logs and their .stats show. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_reallogs.h"
#include "harness_run.h"

static const char header[] =
    "test_stage,client,server,is_probe,outcome,started_on_tick,completed_on_tick,picking_ticks,"
    "send_ticks,server_queue_ticks,processing_ticks,receive_ticks,total_ticks,"
    "server_utilization_latest\n";

static char root[64];

static void put(const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", root, rel);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  assert_int_equal(lb_harness_mkdirs(path), 0);
  *slash = '/';
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* A client log with n completed RUNNING requests of latency `ticks`. */
static void put_log(const char *rel, int n, int ticks, bool timed_out) {
  char text[4096];
  size_t used = (size_t)snprintf(text, sizeof(text), "%s", header);
  for (int i = 0; i < n; i++)
    used += (size_t)snprintf(text + used, sizeof(text) - used,
                             "RUNNING,Client 0,Server 0,False,%s,%d,%d,0,1,0,%d,1,%d,50\n",
                             timed_out && i == 0 ? "timed_out" : "completed", 10 + i,
                             10 + i + ticks, ticks - 2, ticks);
  put(rel, text);
}

static int setup(void **state) {
  (void)state;
  snprintf(root, sizeof(root), "/tmp/test_harness_reallogs.XXXXXX");
  assert_non_null(mkdtemp(root));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_list(void **state) {
  (void)state;
  char a[256], b[256], list[600], err[512] = "";
  put_log("l/a.csv", 2, 5, false);
  put_log("l/b.csv", 2, 5, false);
  put("l/b.stats", "sent=2\ncompleted=2\nfailed=0\ntimed_out=0\n");
  snprintf(a, sizeof(a), "%s/l/a.csv", root);
  snprintf(b, sizeof(b), "%s/l/b.csv", root);
  snprintf(list, sizeof(list), "%s,%s", a, b);
  struct lb_harness_real_logs l;
  assert_int_equal(lb_harness_real_logs_from_list(list, &l, err, sizeof(err)), 0);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.runs[0].run, 0); /* the k-th file is run k */
  assert_int_equal(l.runs[1].run, 1);
  assert_string_equal(l.runs[1].csvs[0], b);
  assert_int_equal(l.runs[0].nclient_stats, 0);
  assert_int_equal(l.runs[1].nclient_stats, 1); /* b.stats beside b.csv */
  lb_harness_real_logs_free(&l);
  snprintf(list, sizeof(list), "%s,,%s", a, b);
  assert_int_equal(lb_harness_real_logs_from_list(list, &l, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "entry 2 is empty"));
  snprintf(list, sizeof(list), "%s,%s/l/nope.csv", a, root);
  assert_int_equal(lb_harness_real_logs_from_list(list, &l, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, "nope.csv: no such file"));
  assert_int_equal(l.n, 0);
}

static void test_dir_layouts(void **state) {
  (void)state;
  char dir[256], err[512] = "";
  struct lb_harness_real_logs l;
  /* lbharness run's layout, with a run folder that has no requests.csv. */
  put_log("out/sc/real/run-0/requests.csv", 3, 5, false);
  put("out/sc/real/run-0/client-0.stats", "sent=3\n");
  put("out/sc/real/run-0/server-0.stats", "tick_late_p99_ns=1000\n");
  put_log("out/sc/real/run-1/requests.csv", 3, 6, false);
  put("out/sc/real/run-2/client-0.log", "started\n");
  put("out/sc/real/run-x/requests.csv", "junk\n");
  put("out/sc/real/run-01/requests.csv", "junk\n"); /* not run 1 */
  snprintf(dir, sizeof(dir), "%s/out", root);
  assert_int_equal(lb_harness_real_logs_from_dir(dir, "sc", false, &l, err, sizeof(err)), 0);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.runs[0].run, 0);
  assert_int_equal(l.runs[1].run, 1);
  assert_non_null(strstr(l.runs[0].csvs[0], "/out/sc/real/run-0/requests.csv"));
  assert_int_equal(l.runs[0].nclient_stats, 1);
  assert_int_equal(l.runs[0].nserver_stats, 1);
  assert_true(l.runs[0].stats_whole_run);
  lb_harness_real_logs_free(&l);
  /* Another scenario is not there: it says where it looked. */
  assert_int_equal(lb_harness_real_logs_from_dir(dir, "other", false, &l, err, sizeof(err)),
                   -ENOENT);
  assert_non_null(strstr(err, "no per-request logs for scenario 'other'"));

  /* Compose logs: a run's client processes together, in order; run 3 only. */
  put_log("k8s/run3-client-1.csv", 2, 5, false);
  put_log("k8s/run3-client-0.csv", 2, 5, false);
  put_log("k8s/run3-client-10.csv", 2, 5, false);
  put("k8s/run3-client-0.stats", "sent=2\n");
  put("k8s/run3-server-0.stats", "tick_late_p99_ns=1\n");
  put("k8s/run3-server-0.port", "tcp=1 udp=2\n");
  put("k8s/run3-client-0.csv.bak", "x\n");
  put("k8s/run03-client-0.csv", "x\n");
  put("k8s/run3-client-00.csv", "x\n");
  snprintf(dir, sizeof(dir), "%s/k8s", root);
  assert_int_equal(lb_harness_real_logs_from_dir(dir, "sc", true, &l, err, sizeof(err)), 0);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.runs[0].run, 3);
  assert_int_equal(l.runs[0].ncsvs, 3);
  assert_non_null(strstr(l.runs[0].csvs[0], "run3-client-0.csv"));
  assert_non_null(strstr(l.runs[0].csvs[1], "run3-client-1.csv"));
  assert_non_null(strstr(l.runs[0].csvs[2], "run3-client-10.csv"));
  assert_int_equal(l.runs[0].nclient_stats, 1);
  assert_int_equal(l.runs[0].nserver_stats, 1);
  assert_false(l.runs[0].stats_whole_run);
  lb_harness_real_logs_free(&l);
  /* With several scenarios the folder itself is not taken for any one. */
  assert_int_equal(lb_harness_real_logs_from_dir(dir, "sc", false, &l, err, sizeof(err)), -ENOENT);

  /* One run in two layouts is refused. */
  put_log("k8s/requests-3.csv", 2, 5, false);
  assert_int_equal(lb_harness_real_logs_scan(dir, &l, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "run 3 is there twice"));
  snprintf(dir, sizeof(dir), "%s/none", root);
  assert_int_equal(lb_harness_real_logs_from_dir(dir, "sc", true, &l, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, "no such folder"));
}

static void test_load_run(void **state) {
  (void)state;
  char dir[256], err[512] = "", rundir[300];
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  snprintf(sc.name, sizeof(sc.name), "sc");
  put_log("m/run0-client-0.csv", 3, 5, false);
  put_log("m/run0-client-1.csv", 4, 7, true);
  /* Counts from the stats where every client process has them: 1 request
   * more sent than logged is a run not valid for comparison. */
  put("m/run0-client-0.stats", "sent=3\ncompleted=3\nfailed=0\ntimed_out=0\n");
  put("m/run0-client-1.stats", "sent=5\ncompleted=3\nfailed=0\ntimed_out=1\n"
                               "timer_lateness_p99_us=10\n");
  snprintf(dir, sizeof(dir), "%s/m", root);
  struct lb_harness_real_logs l;
  assert_int_equal(lb_harness_real_logs_scan(dir, &l, err, sizeof(err)), 1);
  struct lb_harness_run_result res;
  snprintf(rundir, sizeof(rundir), "%s/cmp/sc/real-logs/run-0", root);
  int rc = lb_harness_real_logs_load_run(&sc, &l.runs[0], rundir, 0, &res, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "%s\n", err);
  assert_int_equal(rc, 0);
  assert_int_equal(res.summary.requests, 7); /* both processes' records */
  assert_int_equal(res.summary.timed_out, 1);
  assert_int_equal(res.health_in.sent, 8);
  assert_float_equal(res.health_in.timer_p99_us, 10, 0);
  assert_false(res.health.valid);
  assert_non_null(strstr(res.health.reason, "8 requests sent but 7 accounted for"));
  /* Merged: one header, every record. */
  FILE *f = fopen(res.requests_csv, "r");
  assert_non_null(f);
  int lines = 0;
  char line[1024];
  while (fgets(line, sizeof(line), f))
    lines++;
  fclose(f);
  assert_int_equal(lines, 1 + 7);
  lb_harness_real_logs_free(&l);

  /* Without stats: the log's own accounting; the same file as source and
   * destination is read before it is replaced. */
  assert_int_equal(lb_harness_real_logs_from_list(res.requests_csv, &l, err, sizeof(err)), 0);
  rc = lb_harness_real_logs_load_run(&sc, &l.runs[0], rundir, 0, &res, err, sizeof(err));
  assert_int_equal(rc, 0);
  assert_int_equal(res.summary.requests, 7);
  assert_int_equal(res.health_in.sent, 7);
  assert_float_equal(res.health_in.timer_p99_us, -1, 0);
  /* 1 of 7 timed out: more than 1%. */
  assert_false(res.health.valid);
  assert_non_null(strstr(res.health.reason, "timed out"));
  /* The same timeout predicted by the model's run (compare passes lbsim's
   * count): as in a live run, it no longer counts against the run. */
  rc = lb_harness_real_logs_load_run(&sc, &l.runs[0], rundir, 1, &res, err, sizeof(err));
  assert_int_equal(rc, 0);
  assert_true(res.health.valid);
  lb_harness_real_logs_free(&l);

  /* A file that is not a request log: the reader's FILE:LINE error. */
  put("bad/requests-0.csv", "a,b\n1,2\n");
  snprintf(dir, sizeof(dir), "%s/bad", root);
  assert_int_equal(lb_harness_real_logs_scan(dir, &l, err, sizeof(err)), 1);
  snprintf(rundir, sizeof(rundir), "%s/cmp/sc/real-logs/run-9", root);
  assert_true(lb_harness_real_logs_load_run(&sc, &l.runs[0], rundir, 0, &res, err, sizeof(err)) < 0);
  assert_non_null(strstr(err, "bad/requests-0.csv:1"));
  lb_harness_real_logs_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_list, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dir_layouts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_load_run, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
