/* client_opts: lbclient's option table and the --servers list. */
#include "client_opts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "number.h"

#define OPTS_OF(dest, field) \
  ((struct lb_client_opts *)((char *)(dest) - offsetof(struct lb_client_opts, field)))

/* --clients FIRST[:COUNT] */
static int parse_clients(const char *text, void *dest, char *err, size_t errlen) {
  struct lb_client_opts *o = OPTS_OF(dest, first_client);
  const char *colon = strchr(text, ':');
  char first[64];
  int64_t v;
  snprintf(first, sizeof(first), "%.*s", colon ? (int)(colon - text) : 63, text);
  if (lb_number_int64(first, 0, INT_MAX, &v) < 0) {
    snprintf(err, errlen, "--clients FIRST: expected an integer in [0, %d], got '%s'", INT_MAX,
             first);
    return -EINVAL;
  }
  o->first_client = (int)v;
  if (colon) {
    if (lb_number_int64(colon + 1, 1, INT_MAX, &v) < 0) {
      snprintf(err, errlen, "--clients COUNT: expected an integer in [1, %d], got '%s'", INT_MAX,
               colon + 1);
      return -EINVAL;
    }
    o->client_count = (int)v;
  }
  return 0;
}

/* --servers LIST (the last one given counts) */
static int parse_servers_option(const char *text, void *dest, char *err, size_t errlen) {
  struct lb_client_opts *o = OPTS_OF(dest, servers);
  free(o->servers);
  o->servers = NULL;
  o->nservers = 0;
  return lb_client_parse_servers(text, &o->servers, &o->nservers, err, errlen);
}

#define AT(f) offsetof(struct lb_client_opts, f)
static const struct lb_cli_option options[] = {
    {.name = "scenario", .kind = LB_CLI_STRING, .off = AT(scenario), .metavar = "FILE",
     .help = "scenario YAML (scenario.h)"},
    {.name = "clients", .kind = LB_CLI_CUSTOM, .off = AT(first_client),
     .metavar = "FIRST[:COUNT]", .parse = parse_clients,
     .help = "logical clients hosted here (COUNT defaults to 1)"},
    {.name = "run", .kind = LB_CLI_INT, .off = AT(run), .metavar = "R", .min = 0, .max = INT_MAX,
     .help = "run index: seeds are seed + R (default 0)"},
    {.name = "servers", .kind = LB_CLI_CUSTOM, .off = AT(servers), .metavar = "LIST",
     .parse = parse_servers_option,
     .help = "host:tcpport:udpport,... one per server index, in order"},
    {.name = "log", .kind = LB_CLI_STRING, .off = AT(log_path), .metavar = "FILE.csv",
     .help = "per-request log (reqlog.h columns)"},
    {.name = "board", .kind = LB_CLI_STRING, .off = AT(board), .metavar = "NAME",
     .help = "oracle board of the servers (needed by oracle.* costs)"},
    {.name = "fleet", .kind = LB_CLI_STRING, .off = AT(fleet), .metavar = "FILE",
     .help = "subsets, channel means and servers' rtts at creation from\n"
             "fleet R mod F of FILE (lbsim's fleet files; resets still\n"
             "draw), as lbsim --fleet"},
    {.name = "http-ports", .kind = LB_CLI_STRING, .off = AT(http_ports), .metavar = "LIST",
     .help = "port,... each server's HTTP port (lbserver --http-port),\n"
             "in --servers' order: needed by transport: http"},
    {.name = "start-at-realtime-ns", .kind = LB_CLI_INT64, .off = AT(start_at_realtime_ns),
     .metavar = "T", .min = 0, .max = INT64_MAX,
     .help = "tick 0 at CLOCK_REALTIME T (start a fleet together)"},
    {.name = "stats", .kind = LB_CLI_STRING, .off = AT(stats_path), .metavar = "FILE",
     .help = "counts and timer lateness as key=value lines"},
    {.name = "max-runtime", .kind = LB_CLI_DOUBLE, .off = AT(max_runtime_s), .metavar = "SECONDS",
     .dmin = 0, .flags = LB_CLI_ABOVE_MIN, .help = "hard bound on the whole run"},
    {.name = "wake-early-us", .kind = LB_CLI_INT, .off = AT(wake_early_us), .metavar = "N",
     .min = 0, .max = 1000,
     .help = "wake N us before each deadline and spin to it: less\n"
             "timer lateness for more CPU (default 0, at most 1000)"},
    {.name = "log-level", .kind = LB_CLI_CHOICE, .off = AT(log_level), .metavar = "L",
     .choices = lb_log_level_names, .help = "error|warn|info|debug (default info)"},
    {.name = "full-speed", .kind = LB_CLI_FLAG, .off = AT(full_speed),
     .help = "throughput mode: ignore arrivals and delays, keep\n"
             "--connections N connections busy with --pipeline\n"
             "outstanding requests each until --requests are done"},
    {.name = "connections", .kind = LB_CLI_INT, .off = AT(connections), .metavar = "N", .min = 1,
     .max = 100000, .help = "full speed: connections (default 50)"},
    {.name = "requests", .kind = LB_CLI_INT64, .off = AT(requests), .metavar = "N", .min = 1,
     .max = INT64_MAX, .help = "full speed: requests in all (default 200000)"},
    {.name = "pipeline", .kind = LB_CLI_INT, .off = AT(pipeline), .metavar = "N", .min = 1,
     .max = 4096, .help = "full speed: outstanding requests per connection (default 1)"},
    {.name = "metrics-port", .kind = LB_CLI_INT, .off = AT(metrics_port), .metavar = "P",
     .min = 0, .max = 65535,
     .help = "serve Prometheus metrics at GET /metrics on\n"
             "127.0.0.1:P (0: the kernel picks, logged)"},
    {.name = "metrics-linger", .kind = LB_CLI_INT, .off = AT(metrics_linger_s),
     .metavar = "SECONDS", .min = 0, .max = 3600,
     .help = "after the run (stats written), keep serving them\n"
             "S seconds, or until SIGTERM/SIGINT, for a last scrape"},
    {.name = "help", .short_flag = 'h', .kind = LB_CLI_FLAG, .off = AT(help), .help = "this text"},
    {.name = NULL},
};

void lb_client_usage(FILE *f) {
  fputs("usage: lbclient --scenario FILE --clients FIRST[:COUNT] --servers LIST --log FILE.csv\n"
        "                [--run R] [--board NAME] [--fleet FILE] [--start-at-realtime-ns T]\n"
        "                [--stats FILE] [--http-ports LIST]\n"
        "                [--max-runtime SECONDS] [--wake-early-us N]\n"
        "                [--log-level error|warn|info|debug]\n"
        "                [--metrics-port P [--metrics-linger SECONDS]]\n"
        "       lbclient --full-speed --servers LIST [--scenario FILE] [--connections N]\n"
        "                [--requests N] [--pipeline N] [--max-runtime SECONDS]\n"
        "\n",
        f);
  lb_cli_usage(options, f);
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
    int64_t tp = -1, up = -1;
    if (!c1 || !c2 || c1 == item || lb_number_int64(c1 + 1, 0, 65535, &tp) < 0 ||
        lb_number_int64(c2 + 1, 0, 65535, &up) < 0) {
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
    const char *comma = strchr(p, ',');
    char port[16];
    int64_t v;
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    bool last = i == n - 1;
    if (len >= sizeof(port) || (comma != NULL) == last) {
      v = -1; /* too long, or too many or too few ports */
    } else {
      memcpy(port, p, len);
      port[len] = '\0';
      if (lb_number_int64(port, 1, 65535, &v) < 0)
        v = -1;
    }
    if (v < 0) {
      snprintf(err, errlen,
               "--http-ports: expected %d ports in 1..65535 separated by commas (one per "
               "--servers entry), got '%s'",
               n, text);
      return -EINVAL;
    }
    servers[i].http_port = (int)v;
    p = comma ? comma + 1 : p + len;
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

int lb_client_opts_parse(int argc, char **argv, struct lb_client_opts *o, char *err,
                         size_t errlen) {
  memset(o, 0, sizeof(*o));
  o->client_count = 1;
  o->connections = 50;
  o->requests = 200000;
  o->pipeline = 1;
  o->log_level = LB_LOG_INFO;
  o->first_client = -1;
  o->start_at_realtime_ns = -1;
  o->metrics_port = -1; /* -1: not given */
  int first = 0;
  int rc = lb_cli_parse(options, argc, argv, o, &first, err, errlen);
  o->metrics = o->metrics_port >= 0;
  if (o->help) /* given before anything wrong */
    return 0;
  if (rc < 0)
    goto fail;
  rc = -EINVAL;
  o->has_start_at = o->start_at_realtime_ns >= 0;
  if (!o->has_start_at)
    o->start_at_realtime_ns = 0;
  if (first < argc) {
    snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[first]);
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
