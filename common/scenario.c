/* scenario: YAML scenario files. One table describes every field; the
 * parser, --set and the writer all go through it. */
#include "scenario.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "errbuf.h"
#include "faults.h"
#include "reqlog.h"

enum field_type { F_INT, F_DOUBLE, F_U64, F_STRING, F_DURATION, F_ENUM };

struct field {
  const char *name;
  enum field_type type;
  size_t offset;
  size_t size;              /* F_STRING: buffer size */
  double min, max;          /* F_INT, F_DOUBLE: inclusive bounds */
  bool min_exclusive;       /* F_DOUBLE: value must be > min */
  const char *const *words; /* F_ENUM: NULL-terminated, index = value */
  const char *expected;
};

static const char *const transport_words[] = {"tcp", "udp", "http", NULL};
static const char *const delay_words[] = {"inproc", "netem", "none", NULL};
static const char *const hold_words[] = {"server", "client", NULL};
static const char *const arrivals_words[] = {"seed", "poisson", "trace", NULL};
static const char *const work_words[] = {"sleep", "spin", NULL};
static const char *const probe_service_words[] = {"queued", "immediate", NULL};

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

static const struct field fields[] = {
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
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
_Static_assert(NFIELDS <= LB_SCENARIO_FIELDS_MAX, "field_lines is too short");

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

static const struct field *find_field(const char *name) {
  for (size_t i = 0; i < NFIELDS; i++)
    if (strcmp(fields[i].name, name) == 0)
      return &fields[i];
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
    size_t d = edit_distance(name, fields[i].name);
    if (d < best_d) {
      best_d = d;
      best = fields[i].name;
    }
  }
  if (edit_distance(name, "faults") < best_d) {
    best_d = edit_distance(name, "faults");
    best = "faults";
  }
  size_t limit = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2;
  return best_d <= limit ? best : NULL;
}

static void unknown_field(const char *name, char *err, size_t errlen) {
  char list[1024];
  size_t used = 0;
  list[0] = '\0';
  for (size_t i = 0; i < NFIELDS && used < sizeof(list); i++) {
    int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", fields[i].name);
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

static bool is_none(const char *v) {
  return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "none") == 0 ||
         strcmp(v, "None") == 0;
}

/* A finite number, the whole of the text. */
static bool parse_number(const char *v, double *out) {
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
static int check_name(const char *v, char *err, size_t errlen) {
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

static int set_field(struct lb_scenario *sc, const struct field *f, const char *value, char *err,
                     size_t errlen) {
  char *base = (char *)sc + f->offset;
  switch (f->type) {
  case F_STRING:
    if (strcmp(f->name, "name") == 0 && check_name(value, err, errlen) < 0)
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
    if (strcmp(f->name, "subset_size") == 0 && is_none(value)) {
      *(int *)base = 0;
      return 0;
    }
    if (!parse_number(value, &d) || d != floor(d) || d < f->min || d > f->max)
      goto bad;
    *(int *)base = (int)d;
    return 0;
  }
  case F_DOUBLE: {
    double d = 0;
    if (!parse_number(value, &d) || d < f->min || d > f->max || (f->min_exclusive && d <= f->min))
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

static int set_faults(struct lb_scenario *sc, const char *text, char *err, size_t errlen);

int lb_scenario_set(struct lb_scenario *sc, const char *field, const char *value, char *err,
                    size_t errlen) {
  if (strcmp(field, "faults") == 0)
    return set_faults(sc, value, err, errlen);
  const struct field *f = find_field(field);
  if (f == NULL) {
    unknown_field(field, err, errlen);
    return -EINVAL;
  }
  if (strcmp(f->name, "picker") == 0)
    sc->picker_line = 0; /* set by name: no longer the file's line */
  sc->field_lines[f - fields] = 0;
  return set_field(sc, f, value, err, errlen);
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
  int rate_line = sc->field_lines[find_field("mean_requests_per_server_per_tick") - fields];
  int target_line = sc->field_lines[find_field("target_utilization") - fields];
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

static const char *node_kind(const yaml_node_t *n) {
  switch (n->type) {
  case YAML_SEQUENCE_NODE:
    return "a sequence";
  case YAML_MAPPING_NODE:
    return "a mapping";
  default:
    return "a scalar";
  }
}

/* faults: a sequence of mappings, each {kind, at, for, server, and by kind
 * client, factor, ticks}. Ranges that depend on other fields (servers,
 * clients, total_ticks) and overlaps are checked by lb_scenario_finish. */
enum fault_key { K_KIND, K_AT, K_FOR, K_SERVER, K_CLIENT, K_FACTOR, K_TICKS, K_COUNT };
static const char *const fault_keys[K_COUNT] = {"kind",   "at",     "for",  "server",
                                                "client", "factor", "ticks"};

static int fault_key(const char *name) {
  for (int k = 0; k < K_COUNT; k++)
    if (strcmp(name, fault_keys[k]) == 0)
      return k;
  return -1;
}

/* Which keys a kind takes beyond kind, at, for and server. */
static bool fault_takes(enum lb_fault_kind kind, int key) {
  switch (key) {
  case K_CLIENT:
    return kind == LB_FAULT_DELAY || kind == LB_FAULT_PARTITION;
  case K_FACTOR:
    return kind == LB_FAULT_SLOW;
  case K_TICKS:
    return kind == LB_FAULT_DELAY;
  default:
    return true;
  }
}

static int fault_value(struct lb_fault *f, int key, const char *v, const char **expected) {
  static const char *const what[K_COUNT] = {
      "kill, pause, slow, delay or partition",
      "a tick: an integer >= 0",
      "a number of ticks: an integer >= 1",
      "a server index: an integer >= 0",
      "a client index: an integer >= 0 (leave it out for every client)",
      "a finite number > 0",
      "a finite number of ticks >= 0"};
  *expected = what[key];
  double d = 0;
  if (key == K_FACTOR || key == K_TICKS) {
    if (!parse_number(v, &d) || (key == K_FACTOR ? d <= 0 : d < 0))
      return -EINVAL;
    *(key == K_FACTOR ? &f->factor : &f->ticks) = d;
    return 0;
  }
  if (!parse_number(v, &d) || d != floor(d) || d < (key == K_FOR ? 1 : 0) || d > INT_MAX)
    return -EINVAL;
  int *slot[K_COUNT] = {NULL, &f->at, &f->for_ticks, &f->server, &f->client, NULL, NULL};
  *slot[key] = (int)d;
  return 0;
}

/* The mapping of faults[i] into f. */
static int parse_fault(yaml_document_t *doc, yaml_node_t *item, int i, const char *origin,
                       struct lb_fault *f, char *err, size_t errlen) {
  size_t line = item->start_mark.line + 1;
  if (item->type != YAML_MAPPING_NODE) {
    lb_errf(err, errlen,
            "%s:%zu: field 'faults[%d]': expected a mapping such as {kind: kill, at: 60, for: "
            "20, server: 3}, got %s",
            origin, line, i, node_kind(item));
    return -EINVAL;
  }
  yaml_node_t *value[K_COUNT] = {NULL};
  for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
       p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);
    const char *name = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
    int key = fault_key(name);
    if (key < 0) {
      lb_errf(err, errlen,
              "%s:%zu: field 'faults[%d]': expected a fault field (kind, at, for, server, "
              "client, factor, ticks), got '%.64s'",
              origin, (size_t)k->start_mark.line + 1, i, name);
      return -EINVAL;
    }
    if (value[key] != NULL) {
      lb_errf(err, errlen, "%s:%zu: field 'faults[%d].%s': expected it once, got it again", origin,
              (size_t)k->start_mark.line + 1, i, name);
      return -EINVAL;
    }
    if (v->type != YAML_SCALAR_NODE) {
      lb_errf(err, errlen, "%s:%zu: field 'faults[%d].%s': expected a scalar, got %s", origin,
              (size_t)v->start_mark.line + 1, i, name, node_kind(v));
      return -EINVAL;
    }
    value[key] = v;
  }
  static const int required[] = {K_KIND, K_AT, K_FOR, K_SERVER};
  for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
    if (value[required[r]] == NULL) {
      lb_errf(err, errlen,
              "%s:%zu: field 'faults[%d].%s': expected it (every fault has kind, at, for and "
              "server), got nothing",
              origin, line, i, fault_keys[required[r]]);
      return -EINVAL;
    }
  }
  enum lb_fault_kind kind;
  const char *kv = (const char *)value[K_KIND]->data.scalar.value;
  if (lb_fault_kind_parse(kv, &kind) != 0) {
    lb_errf(err, errlen,
            "%s:%zu: field 'faults[%d].kind': expected kill, pause, slow, delay or partition, "
            "got '%.64s'",
            origin, (size_t)value[K_KIND]->start_mark.line + 1, i, kv);
    return -EINVAL;
  }
  lb_fault_init(f, kind);
  for (int key = K_AT; key < K_COUNT; key++) {
    if (value[key] == NULL)
      continue;
    const char *v = (const char *)value[key]->data.scalar.value;
    size_t vline = value[key]->start_mark.line + 1;
    const char *expected = NULL;
    if (!fault_takes(kind, key)) {
      lb_errf(err, errlen,
              "%s:%zu: field 'faults[%d].%s': expected no %s with kind %s, got '%.64s'", origin,
              vline, i, fault_keys[key], fault_keys[key], kv, v);
      return -EINVAL;
    }
    if (fault_value(f, key, v, &expected) != 0) {
      lb_errf(err, errlen, "%s:%zu: field 'faults[%d].%s': expected %s, got '%.64s'", origin, vline,
              i, fault_keys[key], expected, v);
      return -EINVAL;
    }
  }
  return 0;
}

/* `faults:`: a sequence (or none) into sc; lines of the entries kept for
 * lb_scenario_finish when from_file. */
static int parse_faults(yaml_document_t *doc, yaml_node_t *v, const char *origin, bool from_file,
                        struct lb_scenario *sc, char *err, size_t errlen) {
  sc->n_faults = 0;
  if (v->type == YAML_SCALAR_NODE && is_none((const char *)v->data.scalar.value))
    return 0;
  if (v->type != YAML_SEQUENCE_NODE) {
    lb_errf(err, errlen,
            "%s:%zu: field 'faults': expected a list of faults such as [{kind: kill, at: 60, "
            "for: 20, server: 3}], got %s",
            origin, (size_t)v->start_mark.line + 1, node_kind(v));
    return -EINVAL;
  }
  int i = 0;
  for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
       it++, i++) {
    yaml_node_t *item = yaml_document_get_node(doc, *it);
    if (i == LB_SCENARIO_FAULTS_MAX) {
      lb_errf(err, errlen, "%s:%zu: field 'faults': expected at most %d faults, got more", origin,
              (size_t)item->start_mark.line + 1, LB_SCENARIO_FAULTS_MAX);
      return -EINVAL;
    }
    int rc = parse_fault(doc, item, i, origin, &sc->faults[i], err, errlen);
    if (rc != 0)
      return rc;
    sc->fault_lines[i] = from_file ? (int)item->start_mark.line + 1 : 0;
    sc->n_faults = i + 1;
  }
  return 0;
}

/* --set faults=TEXT: TEXT is YAML (a flow sequence) or none. */
static int set_faults(struct lb_scenario *sc, const char *text, char *err, size_t errlen) {
  yaml_parser_t parser;
  yaml_document_t doc;
  char msg[1200];
  int rc = -EINVAL;
  if (!yaml_parser_initialize(&parser))
    return -ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
  if (!yaml_parser_load(&parser, &doc)) {
    lb_errf(err, errlen,
            "field 'faults': expected a YAML list such as [{kind: kill, at: 60, for: "
            "20, server: 3}], got %s",
            parser.problem ? parser.problem : "a syntax error");
    yaml_parser_delete(&parser);
    return -EINVAL;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (root == NULL) {
    sc->n_faults = 0;
    rc = 0;
  } else {
    rc = parse_faults(&doc, root, "-", false, sc, msg, sizeof(msg));
    if (rc != 0) {
      /* "-:LINE: field ...": a line of the value is no help; the caller
       * says which --set it was. */
      const char *why = strncmp(msg, "-:", 2) == 0 ? strstr(msg, ": ") : NULL;
      lb_errf(err, errlen, "%s", why ? why + 2 : msg);
    }
  }
  sc->faults_line = 0;
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return rc;
}

static int parse_document(yaml_document_t *doc, const char *origin, struct lb_scenario *sc,
                          char *err, size_t errlen) {
  size_t first_line[NFIELDS] = {0};
  size_t faults_first = 0;
  yaml_node_t *root = yaml_document_get_root_node(doc);
  if (root == NULL) {
    lb_errf(err, errlen, "%s:1: expected a mapping of field: value, got an empty document", origin);
    return -EINVAL;
  }
  if (root->type != YAML_MAPPING_NODE) {
    lb_errf(err, errlen, "%s:%zu: expected a mapping of field: value, got %s", origin,
            root->start_mark.line + 1, node_kind(root));
    return -EINVAL;
  }
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
       p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);
    size_t line = k->start_mark.line + 1;
    if (k->type != YAML_SCALAR_NODE) {
      lb_errf(err, errlen, "%s:%zu: expected a field name, got %s", origin, line, node_kind(k));
      return -EINVAL;
    }
    const char *key = (const char *)k->data.scalar.value;
    if (strcmp(key, "faults") == 0) {
      if (faults_first != 0) {
        lb_errf(err, errlen,
                "%s:%zu: field 'faults': expected each field once (first on line %zu), got it "
                "again",
                origin, line, faults_first);
        return -EINVAL;
      }
      faults_first = line;
      sc->faults_line = (int)line;
      int rc = parse_faults(doc, v, origin, true, sc, err, errlen);
      if (rc != 0)
        return rc;
      continue;
    }
    const struct field *f = find_field(key);
    char msg[1200];
    if (f == NULL) {
      unknown_field(key, msg, sizeof(msg));
      lb_errf(err, errlen, "%s:%zu: %s", origin, line, msg);
      return -EINVAL;
    }
    size_t idx = (size_t)(f - fields);
    if (v->type != YAML_SCALAR_NODE) {
      lb_errf(err, errlen, "%s:%zu: field '%s': expected %s, got %s", origin,
              v->start_mark.line + 1, key, f->expected, node_kind(v));
      return -EINVAL;
    }
    const char *value = (const char *)v->data.scalar.value;
    if (first_line[idx] != 0) {
      lb_errf(err, errlen,
              "%s:%zu: field '%s': expected each field once (first on line %zu), got '%s' again",
              origin, line, key, first_line[idx], value);
      return -EINVAL;
    }
    first_line[idx] = line;
    sc->field_lines[idx] = (int)line;
    if (strcmp(f->name, "picker") == 0)
      sc->picker_line = (int)line;
    if (set_field(sc, f, value, msg, sizeof(msg)) != 0) {
      lb_errf(err, errlen, "%s:%zu: %s", origin, v->start_mark.line + 1, msg);
      return -EINVAL;
    }
  }
  return 0;
}

static int parse_with(yaml_parser_t *parser, const char *origin, struct lb_scenario *sc, char *err,
                      size_t errlen) {
  yaml_document_t doc;
  if (!yaml_parser_load(parser, &doc)) {
    lb_errf(err, errlen, "%s:%zu: expected valid YAML, got %s%s%s", origin,
            parser->problem_mark.line + 1, parser->problem ? parser->problem : "a syntax error",
            parser->context ? " " : "", parser->context ? parser->context : "");
    return -EINVAL;
  }
  int rc = parse_document(&doc, origin, sc, err, errlen);
  yaml_document_delete(&doc);
  if (rc != 0)
    return rc;
  /* One document only. */
  if (!yaml_parser_load(parser, &doc)) {
    lb_errf(err, errlen, "%s:%zu: expected valid YAML, got %s", origin,
            parser->problem_mark.line + 1, parser->problem ? parser->problem : "a syntax error");
    return -EINVAL;
  }
  yaml_node_t *extra = yaml_document_get_root_node(&doc);
  size_t line = extra ? extra->start_mark.line + 1 : 0;
  yaml_document_delete(&doc);
  if (extra != NULL) {
    lb_errf(err, errlen, "%s:%zu: expected one document, got a second one", origin, line);
    return -EINVAL;
  }
  return 0;
}

int lb_scenario_parse_string(const char *text, const char *origin, struct lb_scenario *sc,
                             char *err, size_t errlen) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return -ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
  int rc = parse_with(&parser, origin ? origin : "<string>", sc, err, errlen);
  yaml_parser_delete(&parser);
  return rc;
}

/* The base name without directory or .yaml/.yml. */
static void name_from_path(const char *path, char *out, size_t outlen) {
  const char *slash = strrchr(path, '/');
  const char *b = slash ? slash + 1 : path;
  size_t n = strlen(b);
  if (n > 5 && strcmp(b + n - 5, ".yaml") == 0)
    n -= 5;
  else if (n > 4 && strcmp(b + n - 4, ".yml") == 0)
    n -= 4;
  if (n >= outlen)
    n = outlen - 1;
  memcpy(out, b, n);
  out[n] = '\0';
}

/* A relative trace path is relative to the scenario file: make it absolute. */
static int resolve_trace(struct lb_scenario *sc, const char *path, char *err, size_t errlen) {
  if (sc->trace[0] == '\0' || sc->trace[0] == '/')
    return 0;
  char dir[LB_SCENARIO_PATH_MAX];
  char joined[2 * LB_SCENARIO_PATH_MAX + 2];
  const char *slash = strrchr(path, '/');
  if (path[0] == '/') {
    size_t n = (size_t)(slash - path);
    memcpy(dir, path, n);
    dir[n] = '\0';
  } else {
    if (getcwd(dir, sizeof(dir)) == NULL) {
      lb_errf(err, errlen, "%s: field 'trace': cannot resolve '%s': %s", path, sc->trace,
              strerror(errno));
      return -EINVAL;
    }
    if (slash != NULL) {
      size_t used = strlen(dir);
      int n = snprintf(dir + used, sizeof(dir) - used, "/%.*s", (int)(slash - path), path);
      if (n < 0 || (size_t)n >= sizeof(dir) - used)
        goto too_long;
    }
  }
  snprintf(joined, sizeof(joined), "%s/%s", dir, sc->trace);
  if (strlen(joined) >= sizeof(sc->trace))
    goto too_long;
  memcpy(sc->trace, joined, strlen(joined) + 1);
  return 0;
too_long:
  lb_errf(err, errlen, "%s: field 'trace': expected a path shorter than %d bytes, got '%s'", path,
          LB_SCENARIO_PATH_MAX, sc->trace);
  return -EINVAL;
}

int lb_scenario_load(const char *path, struct lb_scenario *sc, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    lb_errf(err, errlen, "%s: cannot open scenario: %s", path, strerror(e));
    return -e;
  }
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    fclose(f);
    return -ENOMEM;
  }
  yaml_parser_set_input_file(&parser, f);
  int rc = parse_with(&parser, path, sc, err, errlen);
  yaml_parser_delete(&parser);
  fclose(f);
  if (rc != 0)
    return rc;
  if (sc->name[0] == '\0')
    name_from_path(path, sc->name, sizeof(sc->name));
  if (strlen(path) < sizeof(sc->path))
    memcpy(sc->path, path, strlen(path) + 1);
  return resolve_trace(sc, path, err, errlen);
}

static int enum_count(const struct field *f) {
  int n = 0;
  while (f->words[n] != NULL)
    n++;
  return n;
}

/* A field's value as the text lb_scenario_set reads back; false where the
 * value is out of the field's range. Strings are left to the caller. */
static bool format_value(const struct lb_scenario *sc, const struct field *f, char *buf,
                         size_t len) {
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
  const struct field *f = find_field(name);
  int line = f ? sc->field_lines[f - fields] : 0;
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

int lb_scenario_finish(struct lb_scenario *sc, char *err, size_t errlen) {
  int rc = 0;
  const char *origin = sc->path[0] ? sc->path : "scenario";
  char value[64];
  /* Every field again, in case it was set directly rather than parsed. */
  for (size_t i = 0; i < NFIELDS; i++) {
    if (!format_value(sc, &fields[i], value, sizeof(value))) {
      lb_errf(err, errlen, "%s: field '%s': expected %s, got '%s'", origin, fields[i].name,
              fields[i].expected, value);
      return -EINVAL;
    }
  }
  char why[256];
  if (check_name(sc->name, why, sizeof(why)) < 0) {
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
    const struct field *fd = &fields[i];
    if (!format_value(sc, fd, value, sizeof(value)))
      return -EINVAL;
    /* Unset limits are left out: files of scenarios without them stay as
     * they were. */
    if ((fd->offset == OFF(server_cpus) || fd->offset == OFF(server_memory)) &&
        *((const char *)sc + fd->offset) == '\0')
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
