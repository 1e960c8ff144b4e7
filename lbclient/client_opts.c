/* client_opts: lbclient's command line. */
#include "client_opts.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void lb_client_usage(FILE *f) {
  fputs("usage: lbclient --scenario FILE --clients FIRST[:COUNT] --servers LIST --log FILE.csv\n"
        "                [--run R] [--board NAME] [--fleet FILE] [--start-at-realtime-ns T]\n"
        "                [--stats FILE] [--http-ports LIST]\n"
        "                [--max-runtime SECONDS] [--wake-early-us N]\n"
        "                [--log-level error|warn|info|debug]\n"
        "       lbclient --full-speed --servers LIST [--scenario FILE] [--connections N]\n"
        "                [--requests N] [--pipeline N] [--max-runtime SECONDS]\n"
        "\n"
        "  --scenario FILE        scenario YAML (scenario.h)\n"
        "  --clients FIRST[:COUNT] logical clients hosted here (COUNT defaults to 1)\n"
        "  --run R                run index: seeds are seed + R (default 0)\n"
        "  --servers LIST         host:tcpport:udpport,... one per server index, in order\n"
        "  --http-ports LIST      port,... each server's HTTP port (lbserver --http-port),\n"
        "                         in --servers' order: needed by transport: http\n"
        "  --log FILE.csv         per-request log (reqlog.h columns)\n"
        "  --board NAME           oracle board of the servers (needed by oracle.* costs)\n"
        "  --fleet FILE           subsets, channel means and servers' rtts at creation from\n"
        "                         fleet R mod F of FILE (lbsim's fleet files; resets still\n"
        "                         draw), as lbsim --fleet\n"
        "  --start-at-realtime-ns T  tick 0 at CLOCK_REALTIME T (start a fleet together)\n"
        "  --stats FILE           counts and timer lateness as key=value lines\n"
        "  --max-runtime SECONDS  hard bound on the whole run\n"
        "  --wake-early-us N      wake N us before each deadline and spin to it: less\n"
        "                         timer lateness for more CPU (default 0, at most 1000)\n"
        "  --full-speed           throughput mode: ignore arrivals and delays, keep\n"
        "                         --connections N connections busy with --pipeline\n"
        "                         outstanding requests each until --requests are done\n",
        f);
}

int lb_client_parse_servers(const char *text, struct lb_server_addr **out, int *n, char *err,
                            size_t errlen) {
  int count = 1;
  for (const char *p = text; *p; p++)
    count += *p == ',';
  struct lb_server_addr *s = calloc((size_t)count, sizeof(*s));
  if (!s)
    return -ENOMEM;
  const char *p = text;
  for (int i = 0; i < count; i++) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char item[LB_CLIENT_HOST_MAX + 32];
    if (len == 0 || len >= sizeof(item)) {
      snprintf(err, errlen, "--servers: entry %d: expected host:tcpport:udpport, got '%.*s'", i,
               (int)(len > 64 ? 64 : len), p);
      free(s);
      return -EINVAL;
    }
    memcpy(item, p, len);
    item[len] = 0;
    char *c2 = strrchr(item, ':');
    char *c1 = NULL;
    if (c2) {
      *c2 = 0;
      c1 = strrchr(item, ':');
    }
    char *e1 = NULL, *e2 = NULL;
    long tp = c1 ? strtol(c1 + 1, &e1, 10) : -1;
    long up = c2 ? strtol(c2 + 1, &e2, 10) : -1;
    if (!c1 || !c2 || c1 == item || *e1 || *e2 || e1 == c1 + 1 || e2 == c2 + 1 || tp < 0 ||
        tp > 65535 || up < 0 || up > 65535) {
      snprintf(err, errlen, "--servers: entry %d: expected host:tcpport:udpport, got '%.*s'", i,
               (int)len, p);
      free(s);
      return -EINVAL;
    }
    *c1 = 0;
    if (strlen(item) >= sizeof(s[i].host)) {
      snprintf(err, errlen, "--servers: entry %d: host name too long", i);
      free(s);
      return -EINVAL;
    }
    memcpy(s[i].host, item, strlen(item) + 1);
    s[i].tcp_port = (int)tp;
    s[i].udp_port = (int)up;
    p = end ? end + 1 : p + len;
  }
  *out = s;
  *n = count;
  return 0;
}

int lb_client_parse_http_ports(const char *text, struct lb_server_addr *servers, int n, char *err,
                               size_t errlen) {
  const char *p = text;
  for (int i = 0; i < n; i++) {
    char *end = NULL;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno || end == p || v < 1 || v > 65535 || (*end != ',' && *end != '\0') ||
        (*end == '\0') != (i == n - 1)) {
      snprintf(err, errlen,
               "--http-ports: expected %d ports in 1..65535 separated by commas (one per "
               "--servers entry), got '%s'",
               n, text);
      return -EINVAL;
    }
    servers[i].http_port = (int)v;
    p = end + 1;
  }
  return 0;
}

int lb_client_server_port(const struct lb_server_addr *a, enum lb_transport t, char *err,
                          size_t errlen) {
  if (t == LB_TRANSPORT_TCP)
    return a->tcp_port;
  if (t == LB_TRANSPORT_UDP)
    return a->udp_port;
  if (a->http_port > 0)
    return a->http_port;
  snprintf(err, errlen,
           "transport: http needs each server's HTTP port: pass --http-ports (lbserver "
           "--http-port)");
  return -EINVAL;
}

static int parse_int(const char *opt, const char *v, long lo, long hi, long *out, char *err,
                     size_t errlen) {
  char *end = NULL;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || !*v || *end || x < lo || x > hi) {
    snprintf(err, errlen, "%s: expected an integer in [%ld, %ld], got '%s'", opt, lo, hi, v);
    return -EINVAL;
  }
  *out = x;
  return 0;
}

enum {
  OPT_SCENARIO = 256,
  OPT_CLIENTS,
  OPT_RUN,
  OPT_SERVERS,
  OPT_LOG,
  OPT_BOARD,
  OPT_FLEET,
  OPT_HTTP_PORTS,
  OPT_START_AT,
  OPT_STATS,
  OPT_MAX_RUNTIME,
  OPT_FULL_SPEED,
  OPT_CONNECTIONS,
  OPT_REQUESTS,
  OPT_PIPELINE,
  OPT_LOG_LEVEL,
  OPT_WAKE_EARLY,
  OPT_HELP,
};

int lb_client_opts_parse(int argc, char **argv, struct lb_client_opts *o, char *err,
                         size_t errlen) {
  static const struct option longopts[] = {
      {"scenario", required_argument, NULL, OPT_SCENARIO},
      {"clients", required_argument, NULL, OPT_CLIENTS},
      {"run", required_argument, NULL, OPT_RUN},
      {"servers", required_argument, NULL, OPT_SERVERS},
      {"log", required_argument, NULL, OPT_LOG},
      {"board", required_argument, NULL, OPT_BOARD},
      {"fleet", required_argument, NULL, OPT_FLEET},
      {"http-ports", required_argument, NULL, OPT_HTTP_PORTS},
      {"start-at-realtime-ns", required_argument, NULL, OPT_START_AT},
      {"stats", required_argument, NULL, OPT_STATS},
      {"max-runtime", required_argument, NULL, OPT_MAX_RUNTIME},
      {"full-speed", no_argument, NULL, OPT_FULL_SPEED},
      {"connections", required_argument, NULL, OPT_CONNECTIONS},
      {"requests", required_argument, NULL, OPT_REQUESTS},
      {"pipeline", required_argument, NULL, OPT_PIPELINE},
      {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
      {"wake-early-us", required_argument, NULL, OPT_WAKE_EARLY},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0},
  };
  memset(o, 0, sizeof(*o));
  o->client_count = 1;
  o->connections = 50;
  o->requests = 200000;
  o->pipeline = 1;
  o->log_level = LB_LOG_INFO;
  o->first_client = -1;
  int rc = -EINVAL;
  long x;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_SCENARIO:
      o->scenario = optarg;
      break;
    case OPT_CLIENTS: {
      char *colon = strchr(optarg, ':');
      char buf[64];
      snprintf(buf, sizeof(buf), "%.*s", colon ? (int)(colon - optarg) : 63, optarg);
      if (parse_int("--clients FIRST", buf, 0, INT_MAX, &x, err, errlen))
        goto fail;
      o->first_client = (int)x;
      if (colon) {
        if (parse_int("--clients COUNT", colon + 1, 1, INT_MAX, &x, err, errlen))
          goto fail;
        o->client_count = (int)x;
      }
      break;
    }
    case OPT_RUN:
      if (parse_int("--run", optarg, 0, INT_MAX, &x, err, errlen))
        goto fail;
      o->run = (int)x;
      break;
    case OPT_SERVERS:
      free(o->servers);
      o->servers = NULL;
      if ((rc = lb_client_parse_servers(optarg, &o->servers, &o->nservers, err, errlen)))
        goto fail;
      rc = -EINVAL;
      break;
    case OPT_LOG:
      o->log_path = optarg;
      break;
    case OPT_BOARD:
      o->board = optarg;
      break;
    case OPT_FLEET:
      o->fleet = optarg;
      break;
    case OPT_HTTP_PORTS:
      o->http_ports = optarg;
      break;
    case OPT_START_AT: {
      char *end = NULL;
      errno = 0;
      long long t = strtoll(optarg, &end, 10);
      if (errno || !*optarg || *end || t < 0) {
        snprintf(err, errlen,
                 "--start-at-realtime-ns: expected nanoseconds since the epoch, "
                 "got '%s'",
                 optarg);
        goto fail;
      }
      o->has_start_at = true;
      o->start_at_realtime_ns = t;
      break;
    }
    case OPT_STATS:
      o->stats_path = optarg;
      break;
    case OPT_MAX_RUNTIME: {
      char *end = NULL;
      double d = strtod(optarg, &end);
      if (!*optarg || *end || !(d > 0)) {
        snprintf(err, errlen, "--max-runtime: expected seconds > 0, got '%s'", optarg);
        goto fail;
      }
      o->max_runtime_s = d;
      break;
    }
    case OPT_FULL_SPEED:
      o->full_speed = true;
      break;
    case OPT_CONNECTIONS:
      if (parse_int("--connections", optarg, 1, 100000, &x, err, errlen))
        goto fail;
      o->connections = (int)x;
      break;
    case OPT_REQUESTS:
      if (parse_int("--requests", optarg, 1, LONG_MAX, &x, err, errlen))
        goto fail;
      o->requests = x;
      break;
    case OPT_PIPELINE:
      if (parse_int("--pipeline", optarg, 1, 4096, &x, err, errlen))
        goto fail;
      o->pipeline = (int)x;
      break;
    case OPT_WAKE_EARLY:
      if (parse_int("--wake-early-us", optarg, 0, 1000, &x, err, errlen))
        goto fail;
      o->wake_early_us = (int)x;
      break;
    case OPT_LOG_LEVEL: {
      static const char *const names[] = {"error", "warn", "info", "debug"};
      int found = -1;
      for (int i = 0; i < 4; i++)
        if (!strcmp(optarg, names[i]))
          found = i;
      if (found < 0) {
        snprintf(err, errlen, "--log-level: expected error, warn, info or debug, got '%s'", optarg);
        goto fail;
      }
      o->log_level = found;
      break;
    }
    case OPT_HELP:
    case 'h':
      o->help = true;
      return 0;
    default:
      snprintf(err, errlen, "unknown or incomplete option '%s' (see --help)",
               argv[optind - 1 >= 1 ? optind - 1 : 1]);
      goto fail;
    }
  }
  if (optind < argc) {
    snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
    goto fail;
  }
  if (!o->servers) {
    snprintf(err, errlen, "--servers is required (host:tcpport:udpport,...)");
    goto fail;
  }
  if (o->http_ports &&
      lb_client_parse_http_ports(o->http_ports, o->servers, o->nservers, err, errlen) < 0)
    goto fail;
  if (!o->full_speed) {
    if (!o->scenario || o->first_client < 0 || !o->log_path) {
      snprintf(err, errlen, "--scenario, --clients and --log are required (see --help)");
      goto fail;
    }
  }
  return 0;
fail:
  lb_client_opts_close(o);
  return rc;
}

void lb_client_opts_close(struct lb_client_opts *o) {
  free(o->servers);
  o->servers = NULL;
  o->nservers = 0;
}
