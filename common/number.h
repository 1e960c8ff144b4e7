/* number: the one parser of numbers given as text (command lines): whole
 * numbers and decimals, every one range-checked, nothing left over. */
#ifndef LB_NUMBER_H
#define LB_NUMBER_H

#include <stdint.h>

/* A whole number (base 10) in lo..hi. 0, -EINVAL when text is not a whole
 * number (empty, trailing characters), -ERANGE when it lies outside. */
int lb_number_int64(const char *text, int64_t lo, int64_t hi, int64_t *out);
/* A whole number >= 0 up to UINT64_MAX (no sign). 0, -EINVAL, -ERANGE. */
int lb_number_uint64(const char *text, uint64_t *out);
/* A finite decimal number in lo..hi. 0, -EINVAL, -ERANGE. */
int lb_number_double(const char *text, double lo, double hi, double *out);
/* A duration in seconds: a number with an optional unit, ns, us, ms, s
 * (the default), m or h ("250ms", "1.5"), in lo..hi seconds. 0, -EINVAL,
 * -ERANGE. */
int lb_number_duration(const char *text, double lo, double hi, double *seconds);

#endif
