/* lbserver: wires options, scenario, server; runs the loop; reports. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fleet_file.h"
#include "log.h"
#include "proc_usage.h"
#include "scenario.h"
#include "server_net.h"
#include "server_options.h"
#include "statsfile.h"

static int write_port_file(const char *path, int tcp, int udp, int http, int metrics) {
  char tmp[4096];
  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
    return -ENAMETOOLONG;
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -errno;
  fprintf(f, "tcp=%d udp=%d", tcp, udp);
  if (http > 0)
    fprintf(f, " http=%d", http);
  if (metrics > 0)
    fprintf(f, " metrics=%d", metrics);
  fputc('\n', f);
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return -e;
  }
  return 0;
}

static double ms(int64_t ns) {
  return (double)ns / 1e6;
}

static int write_stats(const char *path, const struct lb_server_stats *st, int threads) {
  struct lb_proc_usage use;
  lb_proc_usage_get(&use);
  FILE *f = fopen(path, "w");
  if (!f)
    return -errno;
  const struct {
    const char *key;
    long long v;
  } figures[] = {
      {"requests", (long long)st->requests},
      {"probes", (long long)st->probes},
      {"completed", (long long)st->completed},
      {"rejected", (long long)st->rejected},
      {"draining_replies", (long long)st->draining_replies},
      {"bad_frames", (long long)st->bad_frames},
      {"udp_bad", (long long)st->udp_bad},
      {"udp_dropped", (long long)st->udp_dropped},
      {"write_errors", (long long)st->write_errors},
      {"connections", (long long)st->connections},
      {"connections_refused", (long long)st->connections_refused},
      {"resets", (long long)st->resets},
      {"demoted", (long long)st->demoted},
      {"board_errors", (long long)st->board_errors},
      {"threads", (long long)threads},
      {"ticks", (long long)st->tick_late.count},
      {"ticks_skipped", (long long)st->ticks_skipped},
      {"tick_late_p50_ns", (long long)st->tick_late.p50_ns},
      {"tick_late_p99_ns", (long long)st->tick_late.p99_ns},
      {"tick_late_max_ns", (long long)st->tick_late.max_ns},
      {"holds", (long long)st->hold_late.count},
      {"hold_late_p50_ns", (long long)st->hold_late.p50_ns},
      {"hold_late_p99_ns", (long long)st->hold_late.p99_ns},
      {"hold_late_max_ns", (long long)st->hold_late.max_ns},
      {"waits", (long long)st->work_late.count},
      {"work_late_p50_ns", (long long)st->work_late.p50_ns},
      {"work_late_p99_ns", (long long)st->work_late.p99_ns},
      {"work_late_max_ns", (long long)st->work_late.max_ns},
      {"tick_late_max_tick", (long long)st->tick_late_max_tick},
  };
  for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
    lb_statsfile_put_int(f, figures[i].key, figures[i].v);
  /* cpu_seconds: also the harness's fleet CPU where it cannot wait4 the
   * daemon (containers) */
  lb_statsfile_put_real(f, "cpu_seconds", use.cpu_seconds, 3);
  lb_statsfile_put_int(f, "voluntary_switches", use.voluntary_switches);
  lb_statsfile_put_int(f, "involuntary_switches", use.involuntary_switches);
  lb_statsfile_put_int(f, "forced", st->forced ? 1 : 0);
  lb_statsfile_put_int(f, "bad_requests", (long long)st->bad_requests);
  lb_statsfile_put_int(f, "http_connections", (long long)st->http_connections);
  lb_statsfile_put_int(f, "http_refused", (long long)st->http_refused);
  lb_statsfile_put_int(f, "http_malformed", (long long)st->http_malformed);
  lb_statsfile_put_int(f, "held_refused", (long long)st->held_refused);
  lb_statsfile_put_int(f, "peer_refused", (long long)st->peer_refused);
  lb_statsfile_put_int(f, "idle_closed", (long long)st->idle_closed);
  return fclose(f) == 0 ? 0 : -errno;
}

int main(int argc, char **argv) {
  struct lb_server_options o;
  struct lb_scenario sc;
  struct lb_server *srv = NULL;
  char err[1024];
  int rc;

  lb_log_prog = "lbserver";
  /* A client that dies while we write to it must cost one connection, not
   * the server (libuv leaves SIGPIPE to the application). */
  signal(SIGPIPE, SIG_IGN);
  rc = lb_server_options_parse(argc, argv, &o, err, sizeof(err));
  if (rc == 1) {
    lb_server_options_usage(stdout);
    return 0;
  }
  if (rc < 0) {
    fprintf(stderr, "lbserver: %s\n", err);
    return 2;
  }
  lb_log_level = o.log_level;
  lb_scenario_defaults(&sc);
  if (lb_scenario_load(o.scenario, &sc, err, sizeof(err)) < 0 ||
      lb_scenario_finish(&sc, err, sizeof(err)) < 0) {
    fprintf(stderr, "lbserver: %s\n", err);
    return 2;
  }
  if (o.index >= sc.servers) {
    fprintf(stderr, "lbserver: --index %d: expected 0..%d (the scenario has %d servers)\n", o.index,
            sc.servers - 1, sc.servers);
    return 2;
  }
  struct lb_fleet_file fleets = {0};
  const struct lb_fleet_spec *fleet = NULL;
  if (o.fleet) {
    if (lb_fleet_file_load_for(o.fleet, &sc, &fleets, err, sizeof(err)) < 0) {
      fprintf(stderr, "lbserver: --fleet %s\n", err);
      return 2;
    }
    fleet = lb_fleet_file_for_run(&fleets, o.run);
  }
  struct lb_server_config cfg = {
      .sc = &sc,
      .index = o.index,
      .run = o.run,
      .listen = o.listen,
      .port = o.port,
      .udp_port = o.udp_port,
      .no_udp = o.no_udp,
      .http = o.http,
      .http_port = o.http_port,
      .metrics = o.metrics,
      .metrics_port = o.metrics_port,
      /* --max-queue (0: unbounded, as the seed; lbharness passes the
       * scenario's), else the scenario's, else a finite default. */
      .max_queue = o.max_queue >= 0     ? o.max_queue
                   : sc.max_queue > 0 ? sc.max_queue
                                      : LB_SERVER_DEFAULT_MAX_QUEUE,
      .max_connections = o.max_connections,
      .limits = {.max_held = o.max_held,
                 .max_per_peer = o.max_per_peer,
                 .idle_ns = (int64_t)(o.idle_timeout_s * 1e9)},
      .max_frame = (size_t)o.max_frame,
      .max_runtime_s = o.max_runtime_s,
      .work = o.work >= 0 ? (enum lb_work)o.work : sc.work,
      .wake_early_ns = (int64_t)(o.wake_early_us >= 0 ? o.wake_early_us
                                                      : lb_server_wake_early_default(sc.tick_ns)) *
                       1000,
      .overrides = {.threads = o.threads,
                    .processing_time = o.processing_time,
                    .rtt = o.rtt,
                    .initial = fleet ? &fleet->server[o.index] : NULL},
      .board = o.board,
      .handle_signals = true,
  };
  if (o.has_start_at) { /* CLOCK_REALTIME, converted once to the monotonic clock */
    int64_t past_ns;
    cfg.start_ns = lb_clock_monotonic_of_realtime(o.start_at_realtime_ns, &past_ns);
    if (cfg.start_ns <= 0)
      cfg.start_ns = 1;
    if (past_ns > 0)
      LB_WARN("--start-at-realtime-ns is %.3f s in the past: ticks since then are skipped",
              (double)past_ns / 1e9);
  }
  rc = lb_server_new(&cfg, &srv, err, sizeof(err));
  lb_fleet_file_close(&fleets); /* read at creation only */
  if (rc < 0) {
    fprintf(stderr, "lbserver: %s\n", err[0] ? err : strerror(-rc));
    return 1;
  }
  int tcp, udp;
  lb_server_ports(srv, &tcp, &udp);
  if (o.port_file && (rc = write_port_file(o.port_file, tcp, udp, lb_server_http_port(srv),
                                           lb_server_metrics_port(srv))) < 0) {
    fprintf(stderr, "lbserver: --port-file %s: %s\n", o.port_file, strerror(-rc));
    lb_server_free(srv);
    return 1;
  }
  LB_INFO("server %d of '%s' run %d: tcp=%d udp=%d http=%d threads=%d tick=%lldns", o.index,
          sc.name, o.run, tcp, udp, lb_server_http_port(srv), lb_server_threads(srv),
          (long long)sc.tick_ns);
  lb_server_run(srv);

  struct lb_server_stats st;
  int threads = lb_server_threads(srv);
  lb_server_stats(srv, &st);
  lb_server_free(srv);
  fprintf(stderr,
          "lbserver[%d] exit: requests=%llu probes=%llu completed=%llu rejected=%llu "
          "bad_frames=%llu udp_dropped=%llu resets=%llu tick_late_p50=%.3fms "
          "tick_late_p99=%.3fms hold_late_p99=%.3fms work_late_p99=%.3fms%s\n",
          (int)getpid(), (unsigned long long)st.requests, (unsigned long long)st.probes,
          (unsigned long long)st.completed, (unsigned long long)st.rejected,
          (unsigned long long)st.bad_frames, (unsigned long long)st.udp_dropped,
          (unsigned long long)st.resets, ms(st.tick_late.p50_ns), ms(st.tick_late.p99_ns),
          ms(st.hold_late.p99_ns), ms(st.work_late.p99_ns), st.forced ? " (drain forced)" : "");
  if (o.stats && (rc = write_stats(o.stats, &st, threads)) < 0) {
    fprintf(stderr, "lbserver: --stats %s: %s\n", o.stats, strerror(-rc));
    return 1;
  }
  return 0;
}
