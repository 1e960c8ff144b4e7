/* server_options: lbserver's option table, with the defaults. */
#include "server_options.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cli.h"
#include "server_limits.h"

static const char *const works[] = {"sleep", "spin", NULL}; /* enum lb_work */

#define AT(f) offsetof(struct lb_server_options, f)
static const struct lb_cli_option options[] = {
    {.name = "scenario", .kind = LB_CLI_STRING, .off = AT(scenario), .metavar = "FILE",
     .help = "scenario (YAML); the server's parameters are drawn\n"
             "from its seed + run for server I"},
    {.name = "index", .kind = LB_CLI_INT, .off = AT(index), .metavar = "I", .min = 0,
     .max = 1 << 20, .help = "this server's index in the fleet (0..servers-1)"},
    {.name = "run", .kind = LB_CLI_INT, .off = AT(run), .metavar = "R", .min = 0, .max = 1 << 30,
     .help = "run number (default 0)"},
    {.name = "listen", .kind = LB_CLI_STRING, .off = AT(listen), .metavar = "ADDR",
     .help = "address to bind (default 127.0.0.1)"},
    {.name = "port", .kind = LB_CLI_INT, .off = AT(port), .metavar = "P", .min = 0, .max = 65535,
     .help = "TCP port (default 0: the kernel picks)"},
    {.name = "udp-port", .kind = LB_CLI_INT, .off = AT(udp_port), .metavar = "P", .min = 0,
     .max = 65535, .help = "UDP port (default 0: the kernel picks)"},
    {.name = "no-udp", .kind = LB_CLI_FLAG, .off = AT(no_udp), .help = "no UDP socket"},
    {.name = "port-file", .kind = LB_CLI_STRING, .off = AT(port_file), .metavar = "FILE",
     .help = "once listening, write \"tcp=PORT udp=PORT\" there"},
    {.name = "board", .kind = LB_CLI_STRING, .off = AT(board), .metavar = "NAME",
     .help = "oracle board (POSIX shm) to publish to and read\n"
             "the fleet's mean utilization from"},
    {.name = "fleet", .kind = LB_CLI_STRING, .off = AT(fleet), .metavar = "FILE",
     .help = "the server's parameters at creation from fleet\n"
             "R mod F of FILE (lbsim's fleet files; resets still\n"
             "draw), as lbsim --fleet"},
    {.name = "threads", .kind = LB_CLI_INT, .off = AT(threads), .metavar = "N", .min = 1,
     .max = 100000, .help = "worker threads instead of the drawn count"},
    {.name = "processing-time", .kind = LB_CLI_DOUBLE, .off = AT(processing_time), .metavar = "T",
     .dmin = 0, .help = "mean processing ticks instead of the drawn mean\n"
                        "(0: no processing at all, for benchmarks)"},
    {.name = "rtt", .kind = LB_CLI_DOUBLE, .off = AT(rtt), .metavar = "T", .dmin = 0,
     .help = "mean rtt ticks instead of the drawn mean"},
    {.name = "work", .kind = LB_CLI_CHOICE, .off = AT(work), .metavar = "sleep|spin",
     .choices = works, .help = "how a worker spends processing time"},
    {.name = "wake-early-us", .kind = LB_CLI_INT, .off = AT(wake_early_us), .metavar = "N",
     .min = 0, .max = 100000,
     .help = "timed waits (processing sleeps, held responses,\n"
             "ticks) wake N us early and spin to the deadline\n"
             "(default 50 for ticks under 10 ms, else 0:\n"
             "sleep all the way)"},
    {.name = "max-queue", .kind = LB_CLI_INT, .off = AT(max_queue), .metavar = "N", .min = 0,
     .max = 1 << 30,
     .help = "queue bound, 0 = unbounded (default: the scenario's\n"
             "max_queue, else 4096; lbharness passes the scenario's)"},
    {.name = "max-connections-per-peer", .kind = LB_CLI_INT, .off = AT(max_per_peer),
     .metavar = "N", .min = 0, .max = 1 << 20,
     .help = "from one address (default 256, 0: no bound)"},
    {.name = "max-held", .kind = LB_CLI_INT, .off = AT(max_held), .metavar = "N", .min = 0,
     .max = 1 << 24,
     .help = "replies held for their egress delay at once;\n"
             "beyond, requests are rejected (default 16384, 0: no bound)"},
    {.name = "idle-timeout", .kind = LB_CLI_DOUBLE, .off = AT(idle_timeout_s),
     .metavar = "SECONDS", .dmin = 0, .dmax = 1e6,
     .help = "close a connection idle that long (default 120, 0: never)"},
    {.name = "max-connections", .kind = LB_CLI_INT, .off = AT(max_connections), .metavar = "N",
     .min = 1, .max = 1 << 20, .help = "default 1024"},
    {.name = "max-frame", .kind = LB_CLI_INT64, .off = AT(max_frame), .metavar = "BYTES",
     .min = 64, .max = 64 << 20, .help = "largest accepted frame (default 65536)"},
    {.name = "max-runtime", .kind = LB_CLI_DOUBLE, .off = AT(max_runtime_s), .metavar = "SECONDS",
     .dmin = 0, .help = "then drain and exit (default 3600, 0: none)"},
    {.name = "stats", .kind = LB_CLI_STRING, .off = AT(stats), .metavar = "FILE",
     .help = "write counts as key=value lines at exit"},
    {.name = "log-level", .kind = LB_CLI_CHOICE, .off = AT(log_level), .metavar = "L",
     .choices = lb_log_level_names, .help = "error|warn|info|debug (default info)"},
    {.name = "start-at-realtime-ns", .kind = LB_CLI_INT64, .off = AT(start_at_realtime_ns),
     .metavar = "T", .min = 1, .max = INT64_MAX,
     .help = "the fleet's tick 0 at CLOCK_REALTIME T (the\n"
             "clients' --start-at-realtime-ns): accounting\n"
             "ticks and resets from it; default: from the\n"
             "first request"},
    {.name = "http-port", .kind = LB_CLI_INT, .off = AT(http_port), .metavar = "P", .min = 0,
     .max = 65535,
     .help = "also serve HTTP/1.1 on TCP port P (0: the kernel\n"
             "picks; the port file gets http=PORT): GET / or\n"
             "POST /work, the report in endpoint-load-metrics\n"
             "(lbserver/README.md); default: no HTTP"},
    {.name = "metrics-port", .kind = LB_CLI_INT, .off = AT(metrics_port), .metavar = "P",
     .min = 0, .max = 65535,
     .help = "serve Prometheus metrics at GET /metrics on TCP\n"
             "port P (0: the kernel picks; the port file gets\n"
             "metrics=PORT); default: none"},
    {.name = "help", .kind = LB_CLI_FLAG, .off = AT(help), .help = "this text"},
    {.name = NULL},
};

void lb_server_options_usage(FILE *out) {
  fputs("usage: lbserver --scenario FILE --index I [options]\n", out);
  lb_cli_usage(options, out);
}

int lb_server_wake_early_default(int64_t tick_ns) {
  return tick_ns < LB_SERVER_SPIN_BELOW_TICK_NS ? LB_SERVER_WAKE_EARLY_US : 0;
}

int lb_server_options_parse(int argc, char **argv, struct lb_server_options *o, char *err,
                            size_t errlen) {
  int first = 0;
  memset(o, 0, sizeof(*o));
  o->index = -1;
  o->listen = "127.0.0.1";
  o->processing_time = -1;
  o->rtt = -1;
  o->work = -1;
  o->wake_early_us = -1;
  o->max_queue = -1;
  o->max_connections = 1024;
  o->max_frame = 65536;
  o->max_runtime_s = 3600;
  o->log_level = LB_LOG_INFO;
  o->max_held = LB_SERVER_MAX_HELD;
  o->max_per_peer = LB_SERVER_MAX_PER_PEER;
  o->idle_timeout_s = LB_SERVER_IDLE_TIMEOUT_S;
  o->http_port = -1; /* -1: not given */
  o->metrics_port = -1;
  int rc = lb_cli_parse(options, argc, argv, o, &first, err, errlen);
  o->http = o->http_port >= 0;
  o->metrics = o->metrics_port >= 0;
  if (o->help) /* given before anything wrong */
    return 1;
  if (rc < 0)
    return rc;
  o->has_start_at = o->start_at_realtime_ns > 0;
  if (first < argc) {
    snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[first]);
    return -EINVAL;
  }
  if (!o->scenario) {
    snprintf(err, errlen, "--scenario FILE is required (see --help)");
    return -EINVAL;
  }
  if (o->index < 0) {
    snprintf(err, errlen, "--index I is required (see --help)");
    return -EINVAL;
  }
  return 0;
}
