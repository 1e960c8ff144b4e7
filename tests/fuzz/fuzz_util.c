/* fuzz_util: helpers shared by the targets. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

char *lb_fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    return NULL;
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}
