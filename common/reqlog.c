/* reqlog: per-request CSV records with the seed's column names. */
#include "reqlog.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void lb_reqlog_format_double(char *buf, size_t len, double v) {
  if (isnan(v)) {
    snprintf(buf, len, "nan");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, len, v > 0 ? "inf" : "-inf");
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

const char *lb_stage_name(enum lb_stage s) {
  switch (s) {
  case LB_STAGE_WARMING:
    return "WARMING";
  case LB_STAGE_RUNNING:
    return "RUNNING";
  case LB_STAGE_COOLING:
    return "COOLING";
  }
  return "STOPPED";
}

const char *lb_outcome_name(enum lb_outcome o) {
  switch (o) {
  case LB_OUTCOME_COMPLETED:
    return "completed";
  case LB_OUTCOME_FAILED:
    return "failed";
  case LB_OUTCOME_TIMED_OUT:
    return "timed_out";
  }
  return "unknown";
}
