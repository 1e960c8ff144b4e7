/* lbclient: parse options, load the scenario, run the driver (or the
 * full-speed benchmark mode), print and write the counts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_driver.h"
#include "client_fullspeed.h"
#include "client_metrics.h"
#include "client_opts.h"
#include "log.h"
#include "prom.h"
#include "scenario.h"

/* --metrics-linger: the metrics thread serves on for seconds, or until
 * SIGTERM/SIGINT. */
static void linger(int seconds) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
    return;
  LB_INFO("metrics: serving %d s more (or until SIGTERM)", seconds);
  struct timespec ts = {.tv_sec = seconds};
  sigtimedwait(&set, NULL, &ts);
}

static int full_speed(const struct lb_client_opts *o) {
  struct lb_scenario sc;
  char err[1024];
  lb_scenario_defaults(&sc);
  if (o->scenario && (lb_scenario_load(o->scenario, &sc, err, sizeof(err)) < 0 ||
                      lb_scenario_finish(&sc, err, sizeof(err)) < 0)) {
    LB_ERROR("%s", err);
    return 2;
  }
  struct lb_fullspeed_config cfg = {
      .servers = o->servers,
      .nservers = o->nservers,
      .transport = sc.transport,
      .connections = o->connections,
      .pipeline = o->pipeline,
      .requests = o->requests,
      .max_runtime_s = o->max_runtime_s,
  };
  struct lb_fullspeed_result res;
  if (lb_fullspeed_run(&cfg, &res, err, sizeof(err)) < 0) {
    LB_ERROR("%s", err);
    return 1;
  }
  printf("requests/s: %.0f completed=%ld failed=%ld seconds=%.3f rtt_p50_us=%.1f "
         "rtt_p99_us=%.1f connections=%d pipeline=%d\n",
         res.requests_per_second, res.completed, res.failed, res.seconds, res.rtt_p50_us,
         res.rtt_p99_us, o->connections, o->pipeline);
  return res.completed > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  struct lb_client_opts o;
  char err[1024];
  lb_log_prog = "lbclient";
  /* A write to a server that just died must fail with EPIPE, not kill us
   * (libuv leaves SIGPIPE to the application). */
  signal(SIGPIPE, SIG_IGN);
  if (lb_client_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
    fprintf(stderr, "lbclient: %s\n", err);
    return 2;
  }
  if (o.help) {
    lb_client_usage(stdout);
    lb_client_opts_close(&o);
    return 0;
  }
  lb_log_level = o.log_level;
  if (o.full_speed) {
    int rc = full_speed(&o);
    lb_client_opts_close(&o);
    return rc;
  }
  struct lb_scenario sc;
  lb_scenario_defaults(&sc);
  if (lb_scenario_load(o.scenario, &sc, err, sizeof(err)) < 0 ||
      lb_scenario_finish(&sc, err, sizeof(err)) < 0) {
    LB_ERROR("%s", err);
    lb_client_opts_close(&o);
    return 2;
  }
  if (o.first_client + o.client_count > sc.clients) {
    LB_ERROR("--clients %d:%d: the scenario has clients 0..%d", o.first_client, o.client_count,
             sc.clients - 1);
    lb_client_opts_close(&o);
    return 2;
  }
  struct lb_fleet_file fleets = {0};
  if (o.fleet && lb_fleet_file_load_for(o.fleet, &sc, &fleets, err, sizeof(err)) < 0) {
    LB_ERROR("--fleet %s", err);
    lb_client_opts_close(&o);
    return 2;
  }
  FILE *log = fopen(o.log_path, "w");
  if (!log) {
    LB_ERROR("--log %s: %s", o.log_path, strerror(errno));
    lb_fleet_file_close(&fleets);
    lb_client_opts_close(&o);
    return 2;
  }
  static char logbuf[1 << 20];
  setvbuf(log, logbuf, _IOFBF, sizeof(logbuf));
  struct lb_client_config cfg = {
      .sc = &sc,
      .run = o.run,
      .first_client = o.first_client,
      .client_count = o.client_count,
      .servers = o.servers,
      .nservers = o.nservers,
      .log = log,
      .board = o.board,
      .fleet = o.fleet ? lb_fleet_file_for_run(&fleets, o.run) : NULL,
      .has_start_at = o.has_start_at,
      .start_at_realtime_ns = o.start_at_realtime_ns,
      .max_runtime_s = o.max_runtime_s,
      .wake_early_ns = (int64_t)o.wake_early_us * 1000,
  };
  static struct lb_client_metrics metrics;
  struct lb_prom_thread *prom = NULL;
  if (o.metrics) {
    lb_client_metrics_init(&metrics);
    int mrc = lb_prom_thread_start("127.0.0.1", o.metrics_port, lb_client_metrics_collect, &metrics,
                                   &prom, err, sizeof(err));
    if (mrc < 0) {
      LB_ERROR("--metrics-port: %s", err);
      fclose(log);
      lb_fleet_file_close(&fleets);
      lb_client_opts_close(&o);
      return 2;
    }
    LB_INFO("metrics on 127.0.0.1:%d/metrics", lb_prom_thread_port(prom));
    cfg.metrics = &metrics;
  }
  struct lb_client_result res;
  int rc = lb_client_run(&cfg, &res, err, sizeof(err));
  lb_fleet_file_close(&fleets);
  if (fclose(log) != 0)
    res.log_errors++;
  if (rc < 0) {
    LB_ERROR("%s", err);
    lb_client_opts_close(&o);
    return 2;
  }
  printf("lbclient clients=%d:%d sent=%ld completed=%ld failed=%ld timed_out=%ld probes=%ld "
         "timer_lateness_p99_us=%.1f send_lateness_p99_us=%.1f cpu_seconds=%.2f\n",
         o.first_client, o.client_count, res.counts.sent, res.counts.completed, res.counts.failed,
         res.counts.timed_out, res.counts.probes, res.timer_lateness_p99_us,
         res.send_lateness_p99_us, res.cpu_seconds);
  fflush(stdout);
  if (o.stats_path) {
    FILE *f = fopen(o.stats_path, "w");
    if (!f) {
      LB_ERROR("--stats %s: %s", o.stats_path, strerror(errno));
      rc = 1;
    } else {
      lb_client_result_write(&res, f);
      if (fclose(f) != 0)
        rc = 1;
    }
  }
  if (prom && o.metrics_linger_s > 0)
    linger(o.metrics_linger_s);
  lb_prom_thread_stop(prom);
  lb_client_opts_close(&o);
  return rc < 0 ? 1 : (res.log_errors ? 1 : 0);
}
