/* scenario_int: what the files of the scenario module share: the field
 * table and its helpers (scenario.c), the YAML node's kind in words
 * (scenario_yaml.c) and the `faults:` parser (scenario_faults.c).
 * Internal to common/scenario*.c. */
#ifndef LB_SCENARIO_INT_H
#define LB_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "scenario.h"

enum lb__scenario_field_type { F_INT, F_DOUBLE, F_U64, F_STRING, F_DURATION, F_ENUM };

/* One field of struct lb_scenario: where it lives and what it takes. */
struct lb__scenario_field {
  const char *name;
  enum lb__scenario_field_type type;
  size_t offset;
  size_t size;              /* F_STRING: buffer size */
  double min, max;          /* F_INT, F_DOUBLE: inclusive bounds */
  bool min_exclusive;       /* F_DOUBLE: value must be > min */
  const char *const *words; /* F_ENUM: NULL-terminated, index = value */
  const char *expected;
};

/* Every field but `faults`, in the order the writer writes them; an index
 * into it is an index into lb_scenario.field_lines. */
extern const struct lb__scenario_field lb__scenario_fields[];
extern const size_t lb__scenario_nfields;

const struct lb__scenario_field *lb__scenario_find_field(const char *name);
/* "field 'NAME': expected a scenario field (...)" into err. */
void lb__scenario_unknown_field(const char *name, char *err, size_t errlen);
/* Empty, ~, null, none or None. */
bool lb__scenario_is_none(const char *v);
/* A finite number, the whole of the text. */
bool lb__scenario_parse_number(const char *v, double *out);
/* 0 when v can be a scenario's name; -EINVAL with err filled if not. */
int lb__scenario_check_name(const char *v, char *err, size_t errlen);
/* value (text) into the field f of sc; -EINVAL with err filled if out of
 * the field's range. */
int lb__scenario_set_field(struct lb_scenario *sc, const struct lb__scenario_field *f,
                           const char *value, char *err, size_t errlen);
/* A field's value as the text lb_scenario_set reads back; false where the
 * value is out of the field's range. Strings are left to the caller. */
bool lb__scenario_format_value(const struct lb_scenario *sc, const struct lb__scenario_field *f,
                               char *buf, size_t len);

/* "a sequence", "a mapping" or "a scalar". */
const char *lb__scenario_node_kind(const yaml_node_t *n);

/* `faults:`: a sequence (or none) into sc; lines of the entries kept for
 * lb_scenario_finish when from_file. */
int lb__scenario_parse_faults(yaml_document_t *doc, yaml_node_t *v, const char *origin,
                              bool from_file, struct lb_scenario *sc, char *err, size_t errlen);
/* --set faults=TEXT: TEXT is YAML (a flow sequence) or none. */
int lb__scenario_set_faults(struct lb_scenario *sc, const char *text, char *err, size_t errlen);

#endif
