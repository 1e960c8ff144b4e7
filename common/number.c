/* number: strtoll/strtoull/strtod with the checks every caller needs. */
#include "number.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int lb_number_int64(const char *text, int64_t lo, int64_t hi, int64_t *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end != '\0')
    return -EINVAL;
  if (errno == ERANGE || v < lo || v > hi)
    return -ERANGE;
  *out = (int64_t)v;
  return 0;
}

int lb_number_uint64(const char *text, uint64_t *out) {
  const char *p = text;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '-')
    return -EINVAL;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (end == text || *end != '\0')
    return -EINVAL;
  if (errno == ERANGE)
    return -ERANGE;
  *out = (uint64_t)v;
  return 0;
}

static int finite_prefix(const char *text, double *v, char **end) {
  errno = 0;
  *v = strtod(text, end);
  if (*end == text)
    return -EINVAL;
  if (!isfinite(*v))
    return isnan(*v) ? -EINVAL : -ERANGE;
  return 0;
}

int lb_number_double(const char *text, double lo, double hi, double *out) {
  char *end = NULL;
  double v;
  int rc = finite_prefix(text, &v, &end);
  if (rc == 0 && *end != '\0')
    rc = -EINVAL;
  if (rc == 0 && (errno == ERANGE || v < lo || v > hi))
    rc = -ERANGE;
  if (rc == 0)
    *out = v;
  return rc;
}

int lb_number_duration(const char *text, double lo, double hi, double *seconds) {
  static const struct {
    const char *unit;
    double seconds;
  } units[] = {{"", 1}, {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
  char *end = NULL;
  double v;
  int rc = finite_prefix(text, &v, &end);
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (strcmp(end, units[i].unit) == 0) {
      double s = v * units[i].seconds;
      if (!isfinite(s) || s < lo || s > hi)
        return -ERANGE;
      *seconds = s;
      return 0;
    }
  }
  return -EINVAL;
}
