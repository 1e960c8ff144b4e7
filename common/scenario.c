/* scenario: YAML scenario files. One table describes every field; the
 * parser, --set and the writer all go through it. This file holds the
 * table, the defaults, --set (lb_scenario_set) and the writer; reading a
 * file is scenario_yaml.c, the `faults:` list scenario_faults.c, the
 * checks of lb_scenario_finish scenario_check.c (scenario_int.h: what
 * they share). */
#include "scenario.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "faults.h"
#include "reqlog.h"
#include "scenario_int.h"

static const char *const transport_words[] = {"tcp", "udp", "http", NULL};
static const char *const delay_words[] = {"inproc", "netem", "none", NULL};
static const char *const hold_words[] = {"server", "client", NULL};
static const char *const completion_seen_words[] = {"same_tick", "next_tick", NULL};
static const char *const arrivals_words[] = {"seed", "poisson", "trace", NULL};
static const char *const work_words[] = {"sleep", "spin", NULL};
static const char *const probe_service_words[] = {"queued", "immediate", NULL};
static const char *const proxy_words[] = {"none", "haproxy", "nginx", NULL};

#define OFF(f) offsetof(struct lb_scenario, f)
#define SZ(f) sizeof(((struct lb_scenario *)0)->f)
#define INT(n, lo, hi, what)                                                                       \
  { #n, F_INT, OFF(n), 0, lo, hi, false, NULL, what }
#define DBL(n, lo, hi, what)                                                                       \
  { #n, F_DOUBLE, OFF(n), 0, lo, hi, false, NULL, what }
#define POS(n, what)                                                                               \
  { #n, F_DOUBLE, OFF(n), 0, 0, HUGE_VAL, true, NULL, what }
#define STR(n, what)                                                                               \
  { #n, F_STRING, OFF(n), SZ(n), 0, 0, false, NULL, what }
#define ENUM(n, w, what)                                                                           \
  { #n, F_ENUM, OFF(n), 0, 0, 0, false, w, what }

#define LB_SCENARIO_ENTITIES_MAX 1000000
#define LB_SUBSET_MAX 256

const struct lb__scenario_field lb__scenario_fields[] = {
    STR(name, "a name"),
    STR(picker, "a picker expression"),
    INT(servers, 1, LB_SCENARIO_ENTITIES_MAX, "an integer from 1 to 1000000"),
    INT(clients, 1, LB_SCENARIO_ENTITIES_MAX, "an integer from 1 to 1000000"),
    INT(subset_size, 0, LB_SUBSET_MAX, "an integer from 0 (every server) to 256, or none"),
    DBL(mean_requests_per_server_per_tick, 0, HUGE_VAL, "a number >= 0"),
    INT(total_ticks, 1, INT_MAX, "an integer >= 1"),
    POS(mean_processing_time, "a number > 0"),
    DBL(probe_processing_time, 0, HUGE_VAL, "a number >= 0"),
    DBL(mean_channel_rtt, 0, HUGE_VAL, "a number >= 0"),
    POS(channel_rtt_variance, "a number > 0"),
    DBL(mean_server_rtt, 0, HUGE_VAL, "a number >= 0"),
    POS(server_rtt_variance, "a number > 0"),
    DBL(mean_threads, 1, HUGE_VAL, "a number >= 1"),
    DBL(network_reset_probability, 0, 1, "a probability from 0 to 1"),
    DBL(server_reset_probability, 0, 1, "a probability from 0 to 1"),
    DBL(cold_channel_penalty, 0, HUGE_VAL, "a number >= 0"),
    INT(server_state_buffer, 1, 1000000, "an integer from 1 to 1000000"),
    INT(client_requests_buffer, 1, 1000000, "an integer from 1 to 1000000"),
    DBL(ewma_weight, 0, 1, "a weight from 0 to 1"),
    INT(max_cooldown, 0, INT_MAX, "an integer >= 0"),
    INT(data_frequency, 1, INT_MAX, "an integer >= 1"),
    DBL(target_utilization, 0, 10,
        "a multiple of the fleet's capacity from 0 (unset) to 10 (1: every thread busy)"),
    DBL(rate_probes_per_request, 0, HUGE_VAL, "a number >= 0"),
    {"tick", F_DURATION, OFF(tick_ns), 0, 0, 0, false, NULL,
     "a duration > 0 such as 10ms, 2.5s, 500us or 1000ns"},
    {"seed", F_U64, OFF(seed), 0, 0, 0, false, NULL, "an integer from 0 to 18446744073709551615"},
    INT(runs, 1, 1000000, "an integer from 1 to 1000000"),
    ENUM(transport, transport_words, "tcp, udp or http"),
    ENUM(delay, delay_words, "inproc, netem or none"),
    ENUM(response_hold, hold_words, "server or client"),
    ENUM(completion_seen, completion_seen_words, "same_tick or next_tick"),
    ENUM(arrivals, arrivals_words, "seed, poisson or trace"),
    STR(trace, "a trace file path"),
    ENUM(work, work_words, "sleep or spin"),
    ENUM(probe_service, probe_service_words, "queued or immediate"),
    INT(max_queue, 0, INT_MAX, "an integer >= 0 (0: unbounded)"),
    {"timeout", F_DOUBLE, OFF(timeout_ticks), 0, 0, HUGE_VAL, false, NULL,
     "a number of ticks >= 0 (0: 4 * total_ticks)"},
    STR(server_cpus, "CPUs per server container: one number > 0, or one per server, comma "
                     "separated"),
    STR(server_memory, "memory per server container: one size such as 256m (k, m, g), or one "
                       "per server, comma separated"),
    ENUM(proxy, proxy_words, "none, haproxy or nginx"),
    STR(proxy_balance, "the proxy's balance: haproxy's roundrobin, leastconn or random(2); "
                       "nginx's round_robin, least_conn or random two least_conn"),
};
#define NFIELDS (sizeof(lb__scenario_fields) / sizeof(lb__scenario_fields[0]))
_Static_assert(NFIELDS <= LB_SCENARIO_FIELDS_MAX, "field_lines is too short");
const size_t lb__scenario_nfields = NFIELDS;

void lb_scenario_defaults(struct lb_scenario *sc) {
  memset(sc, 0, sizeof(*sc));
  snprintf(sc->picker, sizeof(sc->picker), "random");
  sc->servers = 40;
  sc->clients = 40;
  sc->subset_size = 12;
  sc->mean_requests_per_server_per_tick = 2.2;
  sc->total_ticks = 500;
  sc->mean_processing_time = 6;
  sc->probe_processing_time = 1;
  sc->mean_channel_rtt = 2;
  sc->channel_rtt_variance = 3;
  sc->mean_server_rtt = 2;
  sc->server_rtt_variance = 3;
  sc->mean_threads = 100;
  sc->network_reset_probability = 0.002;
  sc->server_reset_probability = 0.002;
  sc->cold_channel_penalty = 10;
  sc->server_state_buffer = 100;
  sc->client_requests_buffer = 100;
  sc->ewma_weight = 0.2;
  sc->max_cooldown = 300;
  sc->data_frequency = 30;
  sc->target_utilization = 0;
  sc->rate_probes_per_request = 0;
  sc->tick_ns = 10 * 1000 * 1000;
  sc->seed = 1;
  sc->runs = 1;
  sc->transport = LB_TRANSPORT_TCP;
  sc->delay = LB_DELAY_INPROC;
  sc->response_hold = LB_RESPONSE_HOLD_SERVER;
  sc->completion_seen = LB_COMPLETION_SEEN_SAME_TICK;
  sc->arrivals = LB_ARRIVALS_SEED;
  sc->work = LB_WORK_SLEEP;
  sc->max_queue = 0;
  sc->timeout_ticks = 0;
}

double lb_queries_for_utilization(double threads, double processing_time, double probes_per_request,
                                  double probe_processing_time, double target_utilization) {
  return target_utilization * threads /
         (processing_time + probes_per_request * probe_processing_time);
}

int lb_parse_duration_ns(const char *text, int64_t *out) {
  static const struct {
    const char *unit;
    double ns;
  } units[] = {{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || errno != 0 || !isfinite(v) || v < 0)
    return -EINVAL;
  while (*end == ' ')
    end++;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (strcmp(end, units[i].unit) != 0)
      continue;
    double ns = round(v * units[i].ns);
    if (ns >= 9.2e18)
      return -ERANGE;
    *out = (int64_t)ns;
    return 0;
  }
  return -EINVAL;
}

const struct lb__scenario_field *lb__scenario_find_field(const char *name) {
  for (size_t i = 0; i < NFIELDS; i++)
    if (strcmp(lb__scenario_fields[i].name, name) == 0)
      return &lb__scenario_fields[i];
  return NULL;
}

static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return SIZE_MAX;
  size_t row[65];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best)
        best = row[j] + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

static const char *closest_field(const char *name) {
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  for (size_t i = 0; i < NFIELDS; i++) {
    size_t d = edit_distance(name, lb__scenario_fields[i].name);
    if (d < best_d) {
      best_d = d;
      best = lb__scenario_fields[i].name;
    }
  }
  if (edit_distance(name, "faults") < best_d) {
    best_d = edit_distance(name, "faults");
    best = "faults";
  }
  size_t limit = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2;
  return best_d <= limit ? best : NULL;
}

void lb__scenario_unknown_field(const char *name, char *err, size_t errlen) {
  char list[1024];
  size_t used = 0;
  list[0] = '\0';
  for (size_t i = 0; i < NFIELDS && used < sizeof(list); i++) {
    int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                     lb__scenario_fields[i].name);
    if (n < 0)
      break;
    used += (size_t)n;
  }
  if (used < sizeof(list))
    snprintf(list + used, sizeof(list) - used, ", faults");
  const char *near = closest_field(name);
  if (near != NULL)
    lb_errf(err, errlen, "field '%s': expected a scenario field (did you mean '%s'?), got '%s'",
            name, near, name);
  else
    lb_errf(err, errlen, "field '%s': expected a scenario field (one of: %s), got '%s'", name, list,
            name);
}

bool lb__scenario_is_none(const char *v) {
  return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "none") == 0 ||
         strcmp(v, "None") == 0;
}

/* A finite number, the whole of the text. */
bool lb__scenario_parse_number(const char *v, double *out) {
  char *end = NULL;
  errno = 0;
  double d = strtod(v, &end);
  if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d))
    return false;
  *out = d;
  return true;
}

/* A scenario's name is one directory under --out (lbharness) and part of
 * file names: one path component, printable. */
int lb__scenario_check_name(const char *v, char *err, size_t errlen) {
  const char *why = NULL;
  if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
    why = "is '.' or '..'";
  else if (strchr(v, '/'))
    why = "has a '/'";
  for (const unsigned char *p = (const unsigned char *)v; !why && *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      why = "has a control character";
  if (!why)
    return 0;
  lb_errf(err, errlen,
          "field 'name': expected a name that is one directory under --out (no '/', not '.' or "
          "'..', printable), got one that %s",
          why);
  return -EINVAL;
}

int lb__scenario_set_field(struct lb_scenario *sc, const struct lb__scenario_field *f,
                           const char *value, char *err, size_t errlen) {
  char *base = (char *)sc + f->offset;
  switch (f->type) {
  case F_STRING:
    if (strcmp(f->name, "name") == 0 && lb__scenario_check_name(value, err, errlen) < 0)
      return -EINVAL;
    if (strlen(value) >= f->size) {
      lb_errf(err, errlen, "field '%s': expected %s of at most %zu bytes, got '%.40s...'", f->name,
              f->expected, f->size - 1, value);
      return -EINVAL;
    }
    memcpy(base, value, strlen(value) + 1);
    return 0;
  case F_INT: {
    double d = 0;
    if (strcmp(f->name, "subset_size") == 0 && lb__scenario_is_none(value)) {
      *(int *)base = 0;
      return 0;
    }
    if (!lb__scenario_parse_number(value, &d) || d != floor(d) || d < f->min || d > f->max)
      goto bad;
    *(int *)base = (int)d;
    return 0;
  }
  case F_DOUBLE: {
    double d = 0;
    if (!lb__scenario_parse_number(value, &d) || d < f->min || d > f->max ||
        (f->min_exclusive && d <= f->min))
      goto bad;
    *(double *)base = d;
    return 0;
  }
  case F_U64: {
    char *end = NULL;
    errno = 0;
    if (value[0] == '-' || value[0] == '\0')
      goto bad;
    unsigned long long u = strtoull(value, &end, 10);
    if (*end != '\0' || errno == ERANGE)
      goto bad;
    *(uint64_t *)base = (uint64_t)u;
    return 0;
  }
  case F_DURATION: {
    int64_t ns = 0;
    if (lb_parse_duration_ns(value, &ns) != 0 || ns <= 0)
      goto bad;
    *(int64_t *)base = ns;
    return 0;
  }
  case F_ENUM:
    for (int i = 0; f->words[i] != NULL; i++) {
      if (strcmp(f->words[i], value) == 0) {
        *(int *)base = i;
        return 0;
      }
    }
    goto bad;
  }
bad:
  lb_errf(err, errlen, "field '%s': expected %s, got '%s'", f->name, f->expected, value);
  return -EINVAL;
}

int lb_scenario_set(struct lb_scenario *sc, const char *field, const char *value, char *err,
                    size_t errlen) {
  if (strcmp(field, "faults") == 0)
    return lb__scenario_set_faults(sc, value, err, errlen);
  const struct lb__scenario_field *f = lb__scenario_find_field(field);
  if (f == NULL) {
    lb__scenario_unknown_field(field, err, errlen);
    return -EINVAL;
  }
  if (strcmp(f->name, "picker") == 0)
    sc->picker_line = 0; /* set by name: no longer the file's line */
  sc->field_lines[f - lb__scenario_fields] = 0;
  return lb__scenario_set_field(sc, f, value, err, errlen);
}

void lb_scenario_picker_origin(const struct lb_scenario *sc, char *buf, size_t len) {
  const char *origin = sc->path[0] ? sc->path : "scenario";
  if (sc->picker_line > 0)
    snprintf(buf, len, "%s:%d", origin, sc->picker_line);
  else
    snprintf(buf, len, "%s: --set 'picker=%s'", origin, sc->picker);
}

int lb_scenario_warning(const struct lb_scenario *sc, char *buf, size_t len) {
  const char *origin = sc->path[0] ? sc->path : sc->name;
  size_t used = 0;
  if (len)
    buf[0] = '\0';
  if (sc->subset_size > sc->servers) {
    snprintf(buf, len,
             "%s: subset_size %d is larger than servers %d: each client draws its subset with "
             "replacement (as the seed), so some servers appear in it more than once",
             origin, sc->subset_size, sc->servers);
    used = strlen(buf);
  }
  /* A rate in the file that target_utilization replaces (lb_scenario_finish). */
  int rate_line = sc->field_lines[lb__scenario_find_field("mean_requests_per_server_per_tick") -
                                  lb__scenario_fields];
  int target_line =
      sc->field_lines[lb__scenario_find_field("target_utilization") - lb__scenario_fields];
  if (sc->target_utilization > 0 && rate_line > 0 && used < len) {
    char target_at[48] = " (--set)";
    if (target_line > 0)
      snprintf(target_at, sizeof(target_at), " (line %d)", target_line);
    snprintf(buf + used, len - used,
             "%s%s:%d: field 'mean_requests_per_server_per_tick' is overridden by field "
             "'target_utilization'%s: the rate is the one that gives utilization %g",
             used ? "; " : "", origin, rate_line, target_at, sc->target_utilization);
    used = strlen(buf);
  }
  return used > 0 ? 1 : 0;
}

static int enum_count(const struct lb__scenario_field *f) {
  int n = 0;
  while (f->words[n] != NULL)
    n++;
  return n;
}

/* A field's value as the text lb_scenario_set reads back; false where the
 * value is out of the field's range. Strings are left to the caller. */
bool lb__scenario_format_value(const struct lb_scenario *sc, const struct lb__scenario_field *f,
                               char *buf, size_t len) {
  const char *base = (const char *)sc + f->offset;
  switch (f->type) {
  case F_INT: {
    int v = *(const int *)base;
    snprintf(buf, len, "%d", v);
    return v >= f->min && v <= f->max;
  }
  case F_DOUBLE: {
    double v = *(const double *)base;
    lb_reqlog_format_double(buf, len, v);
    return isfinite(v) && v >= f->min && v <= f->max && !(f->min_exclusive && v <= f->min);
  }
  case F_U64:
    snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)base);
    return true;
  case F_DURATION: {
    static const struct {
      const char *unit;
      int64_t ns;
    } units[] = {{"s", 1000000000}, {"ms", 1000000}, {"us", 1000}, {"ns", 1}};
    int64_t v = *(const int64_t *)base;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
      if (v % units[i].ns == 0) {
        snprintf(buf, len, "%lld%s", (long long)(v / units[i].ns), units[i].unit);
        break;
      }
    }
    return v > 0;
  }
  case F_ENUM: {
    int v = *(const int *)base;
    bool ok = v >= 0 && v < enum_count(f);
    snprintf(buf, len, "%s", ok ? f->words[v] : "?");
    return ok;
  }
  case F_STRING:
    buf[0] = '\0';
    return memchr(base, '\0', f->size) != NULL;
  }
  return false;
}

static void write_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(f, "\\x%02x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

int lb_scenario_write(const struct lb_scenario *sc, FILE *f) {
  char value[64];
  for (size_t i = 0; i < NFIELDS; i++) {
    const struct lb__scenario_field *fd = &lb__scenario_fields[i];
    if (!lb__scenario_format_value(sc, fd, value, sizeof(value)))
      return -EINVAL;
    /* Unset limits are left out: files of scenarios without them stay as
     * they were. */
    if ((fd->offset == OFF(server_cpus) || fd->offset == OFF(server_memory)) &&
        *((const char *)sc + fd->offset) == '\0')
      continue;
    /* So are the proxy's fields without a proxy. */
    if ((fd->offset == OFF(proxy) || fd->offset == OFF(proxy_balance)) &&
        sc->proxy == LB_PROXY_NONE)
      continue;
    fprintf(f, "%s: ", fd->name);
    if (fd->type == F_STRING)
      write_string(f, (const char *)sc + fd->offset);
    else
      fputs(value, f);
    fputc('\n', f);
  }
  /* Written only when there are faults: files of scenarios without them
   * stay as they were. */
  if (sc->n_faults > 0)
    fputs("faults:\n", f);
  for (int i = 0; i < sc->n_faults; i++) {
    fputs("  - ", f);
    if (lb_fault_write(&sc->faults[i], f) != 0)
      return -EIO;
    fputc('\n', f);
  }
  return ferror(f) ? -EIO : 0;
}
