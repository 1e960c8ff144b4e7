/* lbserver: wires options, scenario, server; runs the loop; reports. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fleet_file.h"
#include "log.h"
#include "proc_usage.h"
#include "scenario.h"
#include "server_net.h"
#include "server_options.h"

static int write_port_file(const char *path, int tcp, int udp) {
  char tmp[4096];
  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
    return -ENAMETOOLONG;
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -errno;
  fprintf(f, "tcp=%d udp=%d\n", tcp, udp);
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
  fprintf(f,
          "requests=%llu\nprobes=%llu\ncompleted=%llu\nrejected=%llu\ndraining_replies=%llu\n"
          "bad_frames=%llu\nudp_bad=%llu\nudp_dropped=%llu\nwrite_errors=%llu\n"
          "connections=%llu\nconnections_refused=%llu\nresets=%llu\ndemoted=%llu\n"
          "board_errors=%llu\nthreads=%d\nticks=%llu\nticks_skipped=%llu\n"
          "tick_late_p50_ns=%lld\ntick_late_p99_ns=%lld\ntick_late_max_ns=%lld\n"
          "holds=%llu\nhold_late_p50_ns=%lld\nhold_late_p99_ns=%lld\nhold_late_max_ns=%lld\n"
          "waits=%llu\nwork_late_p50_ns=%lld\nwork_late_p99_ns=%lld\nwork_late_max_ns=%lld\n"
          "tick_late_max_tick=%lld\n"
          /* cpu_seconds: also the harness's fleet CPU where it cannot wait4 the
           * daemon (containers) */
          "cpu_seconds=%.3f\nvoluntary_switches=%ld\n"
          "involuntary_switches=%ld\nforced=%d\nbad_requests=%llu\n",
          (unsigned long long)st->requests, (unsigned long long)st->probes,
          (unsigned long long)st->completed, (unsigned long long)st->rejected,
          (unsigned long long)st->draining_replies, (unsigned long long)st->bad_frames,
          (unsigned long long)st->udp_bad, (unsigned long long)st->udp_dropped,
          (unsigned long long)st->write_errors, (unsigned long long)st->connections,
          (unsigned long long)st->connections_refused, (unsigned long long)st->resets,
          (unsigned long long)st->demoted, (unsigned long long)st->board_errors, threads,
          (unsigned long long)st->tick_late.count, (unsigned long long)st->ticks_skipped,
          (long long)st->tick_late.p50_ns, (long long)st->tick_late.p99_ns,
          (long long)st->tick_late.max_ns, (unsigned long long)st->hold_late.count,
          (long long)st->hold_late.p50_ns, (long long)st->hold_late.p99_ns,
          (long long)st->hold_late.max_ns, (unsigned long long)st->work_late.count,
          (long long)st->work_late.p50_ns, (long long)st->work_late.p99_ns,
          (long long)st->work_late.max_ns, (long long)st->tick_late_max_tick, use.cpu_seconds, use.voluntary_switches,
          use.involuntary_switches,
          st->forced ? 1 : 0, (unsigned long long)st->bad_requests);
  fprintf(f, "held_refused=%llu\npeer_refused=%llu\nidle_closed=%llu\n",
          (unsigned long long)st->held_refused, (unsigned long long)st->peer_refused,
          (unsigned long long)st->idle_closed);
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
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t real_now = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec;
    cfg.start_ns = lb_server_now_ns() + (o.start_at_realtime_ns - real_now);
    if (cfg.start_ns <= 0)
      cfg.start_ns = 1;
    if (o.start_at_realtime_ns < real_now)
      LB_WARN("--start-at-realtime-ns is %.3f s in the past: ticks since then are skipped",
              (double)(real_now - o.start_at_realtime_ns) / 1e9);
  }
  rc = lb_server_new(&cfg, &srv, err, sizeof(err));
  lb_fleet_file_close(&fleets); /* read at creation only */
  if (rc < 0) {
    fprintf(stderr, "lbserver: %s\n", err[0] ? err : strerror(-rc));
    return 1;
  }
  int tcp, udp;
  lb_server_ports(srv, &tcp, &udp);
  if (o.port_file && (rc = write_port_file(o.port_file, tcp, udp)) < 0) {
    fprintf(stderr, "lbserver: --port-file %s: %s\n", o.port_file, strerror(-rc));
    lb_server_free(srv);
    return 1;
  }
  LB_INFO("server %d of '%s' run %d: tcp=%d udp=%d threads=%d tick=%lldns", o.index, sc.name, o.run,
          tcp, udp, lb_server_threads(srv), (long long)sc.tick_ns);
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
