/* fuzz_scenario: a scenario's text parsed, finished (cross-field rules),
 * warned about and written back. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = lb_fuzz_cstr(data, size);
  if (!text)
    return 0;
  struct lb_scenario sc;
  char err[512];
  lb_scenario_defaults(&sc);
  if (lb_scenario_parse_string(text, "fuzz.yaml", &sc, err, sizeof(err)) == 0 &&
      lb_scenario_finish(&sc, err, sizeof(err)) == 0) {
    char line[512];
    lb_scenario_warning(&sc, line, sizeof(line));
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    if (f) {
      lb_scenario_write(&sc, f);
      fclose(f);
    }
    free(out);
  }
  free(text);
  return 0;
}
