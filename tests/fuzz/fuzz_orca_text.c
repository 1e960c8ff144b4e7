/* fuzz_orca_text: an endpoint-load-metrics header value parsed; an accepted
 * one formatted, which must parse back and format to the same text. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "orca_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct lb_server_report r, again;
  char err[512], text[LB_ORCA_TEXT_MAX], text2[LB_ORCA_TEXT_MAX];
  if (lb_orca_text_parse((const char *)data, size, &r, err, sizeof(err)) != 0)
    return 0;
  int n = lb_orca_text_format(&r, text, sizeof(text));
  if (n < 0)
    abort(); /* every accepted report has a text form */
  if (lb_orca_text_parse(text, (size_t)n, &again, err, sizeof(err)) != 0)
    abort();
  int n2 = lb_orca_text_format(&again, text2, sizeof(text2));
  if (n2 != n || memcmp(text, text2, (size_t)n) != 0)
    abort();
  return 0;
}
