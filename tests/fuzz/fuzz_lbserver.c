/* fuzz_lbserver: the lbservers of the server fuzz targets. */
#include "fuzz_lbserver.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static const char SCENARIO_FMT[] = "name: fuzz\n"
                                   "picker: \"random\"\n"
                                   "servers: 2\n"
                                   "clients: 4\n"
                                   "subset_size: 2\n"
                                   "mean_threads: 2\n"
                                   "total_ticks: 1\n"
                                   "max_cooldown: 0\n"
                                   "tick: 1ms\n"
                                   "probe_processing_time: 0\n"
                                   "probe_service: %s\n"
                                   "runs: 1\n";

static struct lb_fuzz_lbserver servers[2];
static bool at_exit;

_Noreturn void lb_fuzz_die(const char *target, const char *what) {
  fprintf(stderr, "%s: %s\n", target, what);
  abort();
}

static void free_all(void) {
  for (int i = 0; i < 2; i++) {
    lb_server_free(servers[i].srv);
    servers[i].srv = NULL;
  }
}

struct lb_fuzz_lbserver *lb_fuzz_lbserver(int which, bool http) {
  struct lb_fuzz_lbserver *t = &servers[which ? 1 : 0];
  if (t->srv)
    return t;
  char text[1024], err[512];
  lb_log_level = LB_LOG_ERROR;
  snprintf(text, sizeof(text), SCENARIO_FMT, which ? "immediate" : "queued");
  lb_scenario_defaults(&t->sc);
  if (lb_scenario_parse_string(text, "fuzz_lbserver.yaml", &t->sc, err, sizeof(err)) < 0 ||
      lb_scenario_finish(&t->sc, err, sizeof(err)) < 0)
    lb_fuzz_die("fuzz_lbserver", err);
  struct lb_server_config cfg = {
      .sc = &t->sc,
      .index = 0,
      .listen = "127.0.0.1",
      .http = http,
      .no_udp = http,
      .max_queue = 8,
      .max_connections = 4,
      .max_frame = 4096,
      .limits = {.max_held = 16, .max_per_peer = 2},
      .work = LB_WORK_SLEEP,
      .overrides = {.processing_time = 0, .rtt = -1},
  };
  if (lb_server_new(&cfg, &t->srv, err, sizeof(err)) < 0)
    lb_fuzz_die("fuzz_lbserver", err);
  lb_wire_limits_from_scenario(&t->sc, &t->lim);
  if (!at_exit)
    atexit(free_all);
  at_exit = true;
  return t;
}

void lb_fuzz_lbserver_turn(struct lb_fuzz_lbserver *s) {
  uv_run(&s->srv->loop, UV_RUN_NOWAIT);
}
