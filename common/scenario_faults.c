/* scenario_faults: a scenario's `faults:` list, from the file's YAML or
 * from --set faults=TEXT, into struct lb_fault entries (faults.h has the
 * kinds and the checks against the rest of the scenario). */
#include "scenario.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <yaml.h>

#include "errbuf.h"
#include "faults.h"
#include "scenario_int.h"

/* faults: a sequence of mappings, each {kind, at, for, server, and by kind
 * client, factor, ticks}. Ranges that depend on other lb__scenario_fields (servers,
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
    if (!lb__scenario_parse_number(v, &d) || (key == K_FACTOR ? d <= 0 : d < 0))
      return -EINVAL;
    *(key == K_FACTOR ? &f->factor : &f->ticks) = d;
    return 0;
  }
  if (!lb__scenario_parse_number(v, &d) || d != floor(d) || d < (key == K_FOR ? 1 : 0) ||
      d > INT_MAX)
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
            origin, line, i, lb__scenario_node_kind(item));
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
              (size_t)v->start_mark.line + 1, i, name, lb__scenario_node_kind(v));
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
int lb__scenario_parse_faults(yaml_document_t *doc, yaml_node_t *v, const char *origin,
                              bool from_file, struct lb_scenario *sc, char *err, size_t errlen) {
  sc->n_faults = 0;
  if (v->type == YAML_SCALAR_NODE && lb__scenario_is_none((const char *)v->data.scalar.value))
    return 0;
  if (v->type != YAML_SEQUENCE_NODE) {
    lb_errf(err, errlen,
            "%s:%zu: field 'faults': expected a list of faults such as [{kind: kill, at: 60, "
            "for: 20, server: 3}], got %s",
            origin, (size_t)v->start_mark.line + 1, lb__scenario_node_kind(v));
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
int lb__scenario_set_faults(struct lb_scenario *sc, const char *text, char *err, size_t errlen) {
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
    rc = lb__scenario_parse_faults(&doc, root, "-", false, sc, msg, sizeof(msg));
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
