/* server_options: getopt_long over lbserver's flags, with the defaults. */
#include "server_options.h"

#include "server_limits.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  OPT_SCENARIO = 256,
  OPT_INDEX,
  OPT_RUN,
  OPT_LISTEN,
  OPT_PORT,
  OPT_UDP_PORT,
  OPT_NO_UDP,
  OPT_PORT_FILE,
  OPT_BOARD,
  OPT_FLEET,
  OPT_THREADS,
  OPT_PROCESSING,
  OPT_RTT,
  OPT_WORK,
  OPT_WAKE_EARLY,
  OPT_MAX_QUEUE,
  OPT_MAX_CONN,
  OPT_MAX_HELD,
  OPT_MAX_PER_PEER,
  OPT_IDLE_TIMEOUT,
  OPT_MAX_FRAME,
  OPT_MAX_RUNTIME,
  OPT_STATS,
  OPT_LOG_LEVEL,
  OPT_START_AT,
  OPT_HELP
};

static const struct option long_opts[] = {
    {"scenario", required_argument, NULL, OPT_SCENARIO},
    {"index", required_argument, NULL, OPT_INDEX},
    {"run", required_argument, NULL, OPT_RUN},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"port", required_argument, NULL, OPT_PORT},
    {"udp-port", required_argument, NULL, OPT_UDP_PORT},
    {"no-udp", no_argument, NULL, OPT_NO_UDP},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"board", required_argument, NULL, OPT_BOARD},
    {"fleet", required_argument, NULL, OPT_FLEET},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"processing-time", required_argument, NULL, OPT_PROCESSING},
    {"rtt", required_argument, NULL, OPT_RTT},
    {"work", required_argument, NULL, OPT_WORK},
    {"wake-early-us", required_argument, NULL, OPT_WAKE_EARLY},
    {"max-queue", required_argument, NULL, OPT_MAX_QUEUE},
    {"max-connections", required_argument, NULL, OPT_MAX_CONN},
    {"max-held", required_argument, NULL, OPT_MAX_HELD},
    {"max-connections-per-peer", required_argument, NULL, OPT_MAX_PER_PEER},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
    {"max-runtime", required_argument, NULL, OPT_MAX_RUNTIME},
    {"stats", required_argument, NULL, OPT_STATS},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"start-at-realtime-ns", required_argument, NULL, OPT_START_AT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void lb_server_options_usage(FILE *out) {
  fputs("usage: lbserver --scenario FILE --index I [options]\n"
        "  --scenario FILE        scenario (YAML); the server's parameters are drawn\n"
        "                         from its seed + run for server I\n"
        "  --index I              this server's index in the fleet (0..servers-1)\n"
        "  --run R                run number (default 0)\n"
        "  --listen ADDR          address to bind (default 127.0.0.1)\n"
        "  --port P               TCP port (default 0: the kernel picks)\n"
        "  --udp-port P           UDP port (default 0: the kernel picks)\n"
        "  --no-udp               no UDP socket\n"
        "  --port-file FILE       once listening, write \"tcp=PORT udp=PORT\" there\n"
        "  --board NAME           oracle board (POSIX shm) to publish to and read\n"
        "                         the fleet's mean utilization from\n"
        "  --fleet FILE           the server's parameters at creation from fleet\n"
        "                         R mod F of FILE (lbsim's fleet files; resets still\n"
        "                         draw), as lbsim --fleet\n"
        "  --threads N            worker threads instead of the drawn count\n"
        "  --processing-time T    mean processing ticks instead of the drawn mean\n"
        "                         (0: no processing at all, for benchmarks)\n"
        "  --rtt T                mean rtt ticks instead of the drawn mean\n"
        "  --work sleep|spin      how a worker spends processing time\n"
        "  --wake-early-us N      timed waits (processing sleeps, held responses,\n"
        "                         ticks) wake N us early and spin to the deadline\n"
        "                         (default 50 for ticks under 10 ms, else 0:\n"
        "                         sleep all the way)\n"
        "  --max-queue N          queue bound, 0 = unbounded (default: the scenario's\n"
        "                         max_queue, else 4096; lbharness passes the scenario's)\n"
        "  --max-connections N    default 1024\n"
        "  --max-connections-per-peer N  from one address (default 256, 0: no bound)\n"
        "  --max-held N           replies held for their egress delay at once;\n"
        "                         beyond, requests are rejected (default 16384, 0: no bound)\n"
        "  --idle-timeout SECONDS close a connection idle that long (default 120, 0: never)\n"
        "  --max-frame BYTES      largest accepted frame (default 65536)\n"
        "  --max-runtime SECONDS  then drain and exit (default 3600, 0: none)\n"
        "  --stats FILE           write counts as key=value lines at exit\n"
        "  --log-level L          error|warn|info|debug (default info)\n"
        "  --start-at-realtime-ns T  the fleet's tick 0 at CLOCK_REALTIME T (the\n"
        "                         clients' --start-at-realtime-ns): accounting\n"
        "                         ticks and resets from it; default: from the\n"
        "                         first request\n"
        "  --help                 this text\n",
        out);
}

static int parse_long(const char *opt, const char *text, long lo, long hi, long *out, char *err,
                      size_t errlen) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < lo || v > hi) {
    snprintf(err, errlen, "--%s: expected an integer in %ld..%ld, got '%s'", opt, lo, hi, text);
    return -EINVAL;
  }
  *out = v;
  return 0;
}

static int parse_double(const char *opt, const char *text, double lo, double *out, char *err,
                        size_t errlen) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end || !isfinite(v) || v < lo) {
    snprintf(err, errlen, "--%s: expected a number >= %g, got '%s'", opt, lo, text);
    return -EINVAL;
  }
  *out = v;
  return 0;
}

int lb_server_wake_early_default(int64_t tick_ns) {
  return tick_ns < LB_SERVER_SPIN_BELOW_TICK_NS ? LB_SERVER_WAKE_EARLY_US : 0;
}

int lb_server_options_parse(int argc, char **argv, struct lb_server_options *o, char *err,
                            size_t errlen) {
  long v = 0;
  int rc = 0;
  memset(o, 0, sizeof(*o));
  o->index = -1;
  o->listen = "127.0.0.1";
  o->processing_time = -1;
  o->rtt = -1;
  o->work = -1;
  o->wake_early_us = -1;
  o->max_queue = -1;
  o->max_connections = 1024;
  o->max_held = LB_SERVER_MAX_HELD;
  o->max_per_peer = LB_SERVER_MAX_PER_PEER;
  o->idle_timeout_s = LB_SERVER_IDLE_TIMEOUT_S;
  o->max_frame = 65536;
  o->max_runtime_s = 3600;
  o->log_level = LB_LOG_INFO;
  optind = 1;
  opterr = 0;
  for (;;) {
    int c = getopt_long(argc, argv, ":", long_opts, NULL);
    if (c == -1)
      break;
    const char *name = optind > 1 && optind <= argc ? argv[optind - 1] : "?";
    switch (c) {
    case OPT_SCENARIO:
      o->scenario = optarg;
      break;
    case OPT_INDEX:
      rc = parse_long("index", optarg, 0, 1 << 20, &v, err, errlen);
      o->index = (int)v;
      break;
    case OPT_RUN:
      rc = parse_long("run", optarg, 0, 1 << 30, &v, err, errlen);
      o->run = (int)v;
      break;
    case OPT_LISTEN:
      o->listen = optarg;
      break;
    case OPT_PORT:
      rc = parse_long("port", optarg, 0, 65535, &v, err, errlen);
      o->port = (int)v;
      break;
    case OPT_UDP_PORT:
      rc = parse_long("udp-port", optarg, 0, 65535, &v, err, errlen);
      o->udp_port = (int)v;
      break;
    case OPT_NO_UDP:
      o->no_udp = true;
      break;
    case OPT_PORT_FILE:
      o->port_file = optarg;
      break;
    case OPT_BOARD:
      o->board = optarg;
      break;
    case OPT_FLEET:
      o->fleet = optarg;
      break;
    case OPT_THREADS:
      rc = parse_long("threads", optarg, 1, 100000, &v, err, errlen);
      o->threads = (int)v;
      break;
    case OPT_PROCESSING:
      rc = parse_double("processing-time", optarg, 0, &o->processing_time, err, errlen);
      break;
    case OPT_RTT:
      rc = parse_double("rtt", optarg, 0, &o->rtt, err, errlen);
      break;
    case OPT_WORK:
      if (strcmp(optarg, "sleep") == 0)
        o->work = LB_WORK_SLEEP;
      else if (strcmp(optarg, "spin") == 0)
        o->work = LB_WORK_SPIN;
      else {
        snprintf(err, errlen, "--work: expected sleep or spin, got '%s'", optarg);
        rc = -EINVAL;
      }
      break;
    case OPT_WAKE_EARLY:
      rc = parse_long("wake-early-us", optarg, 0, 100000, &v, err, errlen);
      o->wake_early_us = (int)v;
      break;
    case OPT_MAX_QUEUE:
      rc = parse_long("max-queue", optarg, 0, 1L << 30, &v, err, errlen);
      o->max_queue = (int)v;
      break;
    case OPT_MAX_HELD:
      rc = parse_long("max-held", optarg, 0, 1L << 24, &v, err, errlen);
      o->max_held = (int)v;
      break;
    case OPT_MAX_PER_PEER:
      rc = parse_long("max-connections-per-peer", optarg, 0, 1L << 20, &v, err, errlen);
      o->max_per_peer = (int)v;
      break;
    case OPT_IDLE_TIMEOUT:
      rc = parse_double("idle-timeout", optarg, 0, &o->idle_timeout_s, err, errlen);
      if (rc == 0 && o->idle_timeout_s > 1e6) {
        snprintf(err, errlen, "--idle-timeout: expected at most 1000000 seconds, got '%s'", optarg);
        rc = -EINVAL;
      }
      break;
    case OPT_MAX_CONN:
      rc = parse_long("max-connections", optarg, 1, 1L << 20, &v, err, errlen);
      o->max_connections = (int)v;
      break;
    case OPT_MAX_FRAME:
      rc = parse_long("max-frame", optarg, 64, 64L << 20, &o->max_frame, err, errlen);
      break;
    case OPT_MAX_RUNTIME:
      rc = parse_double("max-runtime", optarg, 0, &o->max_runtime_s, err, errlen);
      break;
    case OPT_STATS:
      o->stats = optarg;
      break;
    case OPT_LOG_LEVEL: {
      static const char *const levels[] = {"error", "warn", "info", "debug"};
      o->log_level = -1;
      for (int i = 0; i < 4; i++)
        if (strcmp(optarg, levels[i]) == 0)
          o->log_level = i;
      if (o->log_level < 0) {
        snprintf(err, errlen, "--log-level: expected error, warn, info or debug, got '%s'", optarg);
        rc = -EINVAL;
      }
      break;
    }
    case OPT_START_AT: {
      char *end = NULL;
      errno = 0;
      long long t = strtoll(optarg, &end, 10);
      if (errno || !*optarg || *end || t <= 0) {
        snprintf(err, errlen,
                 "--start-at-realtime-ns: expected nanoseconds since the epoch, got '%s'", optarg);
        rc = -EINVAL;
        break;
      }
      o->has_start_at = true;
      o->start_at_realtime_ns = t;
      break;
    }
    case OPT_HELP:
      return 1;
    case ':':
      snprintf(err, errlen, "%s: expected a value", name);
      return -EINVAL;
    default:
      snprintf(err, errlen, "%s: unknown option (see --help)", name);
      return -EINVAL;
    }
    if (rc < 0)
      return rc;
  }
  if (optind < argc) {
    snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
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
