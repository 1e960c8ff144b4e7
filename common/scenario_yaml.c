/* scenario_yaml: reading a scenario from YAML text or a file
 * (lb_scenario_parse_string, lb_scenario_load): one document, a mapping of
 * field: value, each field once, each value through the field table
 * (scenario.c); `faults:` goes to scenario_faults.c. */
#include "scenario.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "errbuf.h"
#include "scenario_int.h"

const char *lb__scenario_node_kind(const yaml_node_t *n) {
  switch (n->type) {
  case YAML_SEQUENCE_NODE:
    return "a sequence";
  case YAML_MAPPING_NODE:
    return "a mapping";
  default:
    return "a scalar";
  }
}

static int parse_document(yaml_document_t *doc, const char *origin, struct lb_scenario *sc,
                          char *err, size_t errlen) {
  size_t first_line[LB_SCENARIO_FIELDS_MAX] = {0};
  size_t faults_first = 0;
  yaml_node_t *root = yaml_document_get_root_node(doc);
  if (root == NULL) {
    lb_errf(err, errlen, "%s:1: expected a mapping of field: value, got an empty document", origin);
    return -EINVAL;
  }
  if (root->type != YAML_MAPPING_NODE) {
    lb_errf(err, errlen, "%s:%zu: expected a mapping of field: value, got %s", origin,
            root->start_mark.line + 1, lb__scenario_node_kind(root));
    return -EINVAL;
  }
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
       p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);
    size_t line = k->start_mark.line + 1;
    if (k->type != YAML_SCALAR_NODE) {
      lb_errf(err, errlen, "%s:%zu: expected a field name, got %s", origin, line,
              lb__scenario_node_kind(k));
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
      int rc = lb__scenario_parse_faults(doc, v, origin, true, sc, err, errlen);
      if (rc != 0)
        return rc;
      continue;
    }
    const struct lb__scenario_field *f = lb__scenario_find_field(key);
    char msg[1200];
    if (f == NULL) {
      lb__scenario_unknown_field(key, msg, sizeof(msg));
      lb_errf(err, errlen, "%s:%zu: %s", origin, line, msg);
      return -EINVAL;
    }
    size_t idx = (size_t)(f - lb__scenario_fields);
    if (v->type != YAML_SCALAR_NODE) {
      lb_errf(err, errlen, "%s:%zu: field '%s': expected %s, got %s", origin,
              v->start_mark.line + 1, key, f->expected, lb__scenario_node_kind(v));
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
    if (lb__scenario_set_field(sc, f, value, msg, sizeof(msg)) != 0) {
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
