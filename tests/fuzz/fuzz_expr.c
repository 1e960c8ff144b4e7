/* fuzz_expr: a picker expression parsed; a valid one formatted, which must
 * round-trip through the parser to the same text, and instantiated. */
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "fuzz.h"
#include "picker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = lb_fuzz_cstr(data, size);
  if (!text)
    return 0;
  struct lb_picker_spec *spec = NULL, *again = NULL;
  char err[512];
  if (lb_picker_spec_parse(text, &spec, err, sizeof(err)) == 0) {
    char canon[2048], canon2[2048];
    lb_picker_spec_needs_oracle(spec);
    lb_picker_spec_probes(spec);
    if (lb_picker_spec_format(spec, canon, sizeof(canon)) >= 0) {
      if (lb_picker_spec_parse(canon, &again, err, sizeof(err)) != 0)
        abort(); /* the canonical text must parse */
      if (lb_picker_spec_format(again, canon2, sizeof(canon2)) < 0 || strcmp(canon, canon2) != 0)
        abort(); /* and give itself back */
      lb_picker_spec_free(again);
    }
    struct lb_picker *p = NULL;
    for (int n = 1; n <= 4; n++)
      if (lb_picker_new(spec, n, &p) == 0) {
        lb_picker_max_watched(p);
        lb_picker_free(p);
      }
  }
  lb_picker_spec_free(spec);
  free(text);
  return 0;
}
