/* scenario_check: lb_scenario_finish, the checks of a whole scenario once
 * every field is set: each field in its range again, the server limits
 * (server_cpus, server_memory), the model state's size, the faults against
 * the fleet and the run. */
#include "scenario.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "faults.h"
#include "scenario_int.h"

/* Item i of a comma-separated list that holds one item or `count`, into
 * item; 0 when the list is empty, -EINVAL when it has another length. */
static int list_item(const char *list, int count, int i, char *item, size_t len) {
  if (list[0] == '\0')
    return 0;
  int n = 1;
  for (const char *p = list; *p; p++)
    n += *p == ',';
  if (n != 1 && n != count)
    return -EINVAL;
  const char *p = list;
  for (int k = 0; n > 1 && k < i; k++)
    p = strchr(p, ',') + 1;
  size_t m = strcspn(p, ",");
  while (m > 0 && p[m - 1] == ' ')
    m--;
  while (m > 0 && *p == ' ') {
    p++;
    m--;
  }
  if (m == 0 || m >= len)
    return -EINVAL;
  memcpy(item, p, m);
  item[m] = '\0';
  return 1;
}

int lb_scenario_server_cpus(const struct lb_scenario *sc, int i, double *out) {
  char item[64], *end = NULL;
  int rc = list_item(sc->server_cpus, sc->servers, i, item, sizeof(item));
  if (rc <= 0)
    return rc;
  double v = strtod(item, &end);
  if (*end != '\0' || !(v > 0) || v > 1e6)
    return -EINVAL;
  *out = v;
  return 1;
}

int lb_scenario_server_memory(const struct lb_scenario *sc, int i, long long *bytes) {
  char item[64], *end = NULL;
  int rc = list_item(sc->server_memory, sc->servers, i, item, sizeof(item));
  if (rc <= 0)
    return rc;
  errno = 0;
  long long v = strtoll(item, &end, 10);
  int shift = 0;
  if (*end == 'k' || *end == 'K')
    shift = 10;
  else if (*end == 'm' || *end == 'M')
    shift = 20;
  else if (*end == 'g' || *end == 'G')
    shift = 30;
  if (shift)
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  /* 6 MiB: the least a container engine accepts. */
  if (errno != 0 || end == item || *end != '\0' || v <= 0 || v > (1LL << 50) >> shift ||
      (v << shift) < (6LL << 20))
    return -EINVAL;
  *bytes = v << shift;
  return 1;
}

/* server_cpus and server_memory: each item parses, one or `servers` items. */
static int check_limits(const struct lb_scenario *sc, const char *origin, char *err,
                        size_t errlen) {
  for (int k = 0; k < 2; k++) {
    const char *name = k == 0 ? "server_cpus" : "server_memory";
    const char *text = k == 0 ? sc->server_cpus : sc->server_memory;
    for (int i = 0; text[0] != '\0' && i < sc->servers; i++) {
      double cpus;
      long long bytes;
      int rc =
          k == 0 ? lb_scenario_server_cpus(sc, i, &cpus) : lb_scenario_server_memory(sc, i, &bytes);
      if (rc >= 0)
        continue;
      lb_errf(err, errlen,
              "%s: field '%s': expected %s, one value or %d (one per server), got '%s'", origin,
              name, k == 0 ? "CPUs > 0" : "sizes of at least 6m such as 256m or 1g", sc->servers,
              text);
      return -EINVAL;
    }
  }
  return 0;
}

/* "FILE:LINE" of a field when it came from the file, else "FILE". */
static void field_origin(const struct lb_scenario *sc, const char *origin, const char *name,
                         char *buf, size_t len) {
  const struct lb__scenario_field *f = lb__scenario_find_field(name);
  int line = f ? sc->field_lines[f - lb__scenario_fields] : 0;
  if (line > 0)
    snprintf(buf, len, "%s:%d", origin, line);
  else
    snprintf(buf, len, "%s", origin);
}

/* The model state a run holds at once, by what sizes it: checked before
 * anything is allocated, so that `total_ticks: 2147483647` or a million
 * servers is an error naming the field, not a failed multi-GB allocation.
 * Per server: the accounting's 6 windows of server_state_buffer doubles;
 * per channel (clients * subset): its latency window of
 * client_requests_buffer doubles; per tick: the seed's arrival counts. The
 * fixed parts are generous round figures for the structs. */
#define LB_SCENARIO_STATE_MAX (1024.0 * 1024 * 1024)
#define STATE_PER_SERVER 1024.0
#define STATE_PER_CHANNEL 256.0

static int check_state_size(const struct lb_scenario *sc, const char *origin, char *err,
                            size_t errlen) {
  double subset = sc->subset_size > 0 ? sc->subset_size : sc->servers;
  const struct {
    const char *field, *formula;
    double bytes;
  } terms[] = {
      {"servers", "servers * (6 * server_state_buffer * 8 + 1024) bytes",
       sc->servers * (6.0 * sc->server_state_buffer * 8 + STATE_PER_SERVER)},
      {"clients", "clients * subset_size * (client_requests_buffer * 8 + 256) bytes",
       sc->clients * subset * (sc->client_requests_buffer * 8.0 + STATE_PER_CHANNEL)},
      {"total_ticks", "total_ticks * 8 bytes", sc->total_ticks * 8.0},
  };
  double total = 0;
  size_t big = 0;
  for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
    total += terms[i].bytes;
    if (terms[i].bytes > terms[big].bytes)
      big = i;
  }
  if (total <= LB_SCENARIO_STATE_MAX)
    return 0;
  char where[LB_SCENARIO_PATH_MAX + 16];
  field_origin(sc, origin, terms[big].field, where, sizeof(where));
  lb_errf(err, errlen,
          "%s: field '%s': expected a run whose model state fits in %.0f MiB, got %.0f MiB "
          "(%s: %.0f MiB)",
          where, terms[big].field, LB_SCENARIO_STATE_MAX / (1024 * 1024), total / (1024 * 1024),
          terms[big].formula, terms[big].bytes / (1024 * 1024));
  return -E2BIG;
}

/* Each fault against servers, clients, total_ticks and the faults before
 * it (faults.h). */
static int check_faults(const struct lb_scenario *sc, const char *origin, char *err,
                        size_t errlen) {
  if (sc->n_faults < 0 || sc->n_faults > LB_SCENARIO_FAULTS_MAX) {
    lb_errf(err, errlen, "%s: field 'faults': expected at most %d faults, got %d", origin,
            LB_SCENARIO_FAULTS_MAX, sc->n_faults);
    return -EINVAL;
  }
  for (int i = 0; i < sc->n_faults; i++) {
    const char *field = "";
    char why[512];
    if (lb_faults_check(sc->faults, sc->n_faults, i, sc->servers, sc->clients, sc->total_ticks,
                        &field, why, sizeof(why)) == 0)
      continue;
    char where[LB_SCENARIO_PATH_MAX + 16];
    if (sc->fault_lines[i] > 0)
      snprintf(where, sizeof(where), "%s:%d", origin, sc->fault_lines[i]);
    else
      snprintf(where, sizeof(where), "%s", origin);
    lb_errf(err, errlen, "%s: field 'faults[%d].%s': %s", where, i, field, why);
    return -EINVAL;
  }
  return 0;
}

/* proxy and proxy_balance: a balance the proxy has, transport: http; the
 * picker becomes the balance's lbsim equivalent over every server. */
static int check_proxy(struct lb_scenario *sc, const char *origin, char *err, size_t errlen) {
  char where[LB_SCENARIO_PATH_MAX + 16];
  if (sc->proxy == LB_PROXY_NONE) {
    if (sc->proxy_balance[0] == '\0')
      return 0;
    field_origin(sc, origin, "proxy_balance", where, sizeof(where));
    lb_errf(err, errlen,
            "%s: field 'proxy_balance': expected no balance without a proxy (set proxy: haproxy "
            "or proxy: nginx), got '%s'",
            where, sc->proxy_balance);
    return -EINVAL;
  }
  const char *name = lb_proxy_name(sc->proxy);
  if (sc->proxy_balance[0] == '\0')
    snprintf(sc->proxy_balance, sizeof(sc->proxy_balance), "%s",
             lb_proxy_default_balance(sc->proxy));
  const struct lb_proxy_balance *b = lb_proxy_balance_find(sc->proxy, sc->proxy_balance);
  if (b == NULL) {
    char list[256];
    lb_proxy_balance_list(sc->proxy, list, sizeof(list));
    field_origin(sc, origin, "proxy_balance", where, sizeof(where));
    lb_errf(err, errlen, "%s: field 'proxy_balance': expected one of %s's balances (%s), got '%s'",
            where, name, list, sc->proxy_balance);
    return -EINVAL;
  }
  if (sc->transport != LB_TRANSPORT_HTTP) {
    field_origin(sc, origin, "proxy", where, sizeof(where));
    lb_errf(err, errlen,
            "%s: field 'proxy': expected transport: http with a proxy (%s forwards HTTP to "
            "lbserver's --http-port), got transport: %s; set transport: http",
            where, name, sc->transport == LB_TRANSPORT_UDP ? "udp" : "tcp");
    return -EINVAL;
  }
  if (sc->servers > LB_PROXY_SERVERS_MAX) {
    field_origin(sc, origin, "servers", where, sizeof(where));
    lb_errf(err, errlen,
            "%s: field 'servers': expected at most %d servers behind a proxy (lbsim's modelled "
            "proxy is one picker over every server), got %d",
            where, LB_PROXY_SERVERS_MAX, sc->servers);
    return -EINVAL;
  }
  /* delay and partition are lbclient's, on a channel to a server: behind
   * a proxy every channel leads to the proxy, which picks the server after
   * the client has sent. */
  for (int i = 0; i < sc->n_faults && i < LB_SCENARIO_FAULTS_MAX; i++) {
    if (sc->faults[i].kind != LB_FAULT_DELAY && sc->faults[i].kind != LB_FAULT_PARTITION)
      continue;
    if (sc->fault_lines[i] > 0)
      snprintf(where, sizeof(where), "%s:%d", origin, sc->fault_lines[i]);
    else
      snprintf(where, sizeof(where), "%s", origin);
    lb_errf(err, errlen,
            "%s: field 'faults[%d].kind': expected kill, pause or slow with a proxy (%s picks the "
            "server after the client sends, and %s is the client's, on its channel to a server), "
            "got '%s'",
            where, i, name, lb_fault_kind_name(sc->faults[i].kind),
            lb_fault_kind_name(sc->faults[i].kind));
    return -EINVAL;
  }
  snprintf(sc->picker, sizeof(sc->picker), "%s", b->expr);
  sc->subset_size = 0;
  return 0;
}

int lb_scenario_finish(struct lb_scenario *sc, char *err, size_t errlen) {
  int rc = 0;
  const char *origin = sc->path[0] ? sc->path : "scenario";
  char value[64];
  /* Every field again, in case it was set directly rather than parsed. */
  for (size_t i = 0; i < lb__scenario_nfields; i++) {
    if (!lb__scenario_format_value(sc, &lb__scenario_fields[i], value, sizeof(value))) {
      lb_errf(err, errlen, "%s: field '%s': expected %s, got '%s'", origin,
              lb__scenario_fields[i].name, lb__scenario_fields[i].expected, value);
      return -EINVAL;
    }
  }
  char why[256];
  if (lb__scenario_check_name(sc->name, why, sizeof(why)) < 0) {
    lb_errf(err, errlen, "%s: %s", origin, why);
    return -EINVAL;
  }
  if (sc->picker[0] == '\0') {
    lb_errf(err, errlen, "%s: field 'picker': expected a picker expression, got ''", origin);
    return -EINVAL;
  }
  if (sc->arrivals == LB_ARRIVALS_TRACE && sc->trace[0] == '\0') {
    lb_errf(err, errlen, "%s: field 'trace': expected a trace file with arrivals: trace, got ''",
            origin);
    return -EINVAL;
  }
  if (check_limits(sc, origin, err, errlen) < 0)
    return -EINVAL;
  if (check_proxy(sc, origin, err, errlen) < 0)
    return -EINVAL;
  if (sc->target_utilization > 0) {
    double rate = lb_queries_for_utilization(sc->mean_threads, sc->mean_processing_time,
                                             sc->rate_probes_per_request, sc->probe_processing_time,
                                             sc->target_utilization);
    if (!isfinite(rate) || rate < 0) {
      lb_errf(err, errlen,
              "%s: field 'target_utilization': expected a utilization that gives a "
              "finite request rate, got '%.17g'",
              origin, sc->target_utilization);
      return -EINVAL;
    }
    sc->mean_requests_per_server_per_tick = rate;
  }
  if ((rc = check_state_size(sc, origin, err, errlen)) < 0)
    return rc;
  if ((rc = check_faults(sc, origin, err, errlen)) < 0)
    return rc;
  /* The seed's trace: round(rate * servers * ticks) requests held at once. */
  double requests = round(sc->mean_requests_per_server_per_tick * sc->servers * sc->total_ticks);
  if (requests > 1e9) {
    lb_errf(err, errlen,
            "%s: field 'mean_requests_per_server_per_tick': expected at most 1e9 "
            "requests in a run (rate * servers * total_ticks), got '%.17g' (%.0f requests)",
            origin, sc->mean_requests_per_server_per_tick, requests);
    return -EINVAL;
  }
  return 0;
}
