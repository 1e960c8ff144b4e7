/* expr: picker expressions, e.g. "probing(weighted(server.utilization.mean),
 * probes=2)" or "subset(fastest_probe, size=3)", parsed into a spec tree that
 * lb_picker_new() instantiates. Errors point at the offending character and
 * list what would be valid there. */
#ifndef LB_EXPR_H
#define LB_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct lb_picker_spec;

int lb_picker_spec_parse(const char *expr, struct lb_picker_spec **out, char *err, size_t errlen);
void lb_picker_spec_free(struct lb_picker_spec *spec);
/* True when some cost reads the oracle (needs the shared-memory board). */
bool lb_picker_spec_needs_oracle(const struct lb_picker_spec *spec);
/* True when some cost reads a server's PID weight (server.pid, oracle.pid):
 * the seed's server PID steers towards the fleet's mean utilization, which
 * real servers learn from the shared-memory board. */
bool lb_picker_spec_needs_fleet_mean(const struct lb_picker_spec *spec);
/* True when the picker sends probes. */
bool lb_picker_spec_probes(const struct lb_picker_spec *spec);
/* Canonical text of the spec (round-trips through the parser). */
int lb_picker_spec_format(const struct lb_picker_spec *spec, char *buf, size_t len);
/* Prints the registry: every picker and cost, a line of help each. */
void lb_picker_registry_print(FILE *f);

#endif
