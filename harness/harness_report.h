/* harness_report: report.html (one offline file: inline SVG and CSS, no
 * script) and the CSVs beside it, from a finished comparison. Callable by
 * anything that fills a struct lb_harness_compare (compare, sweeps). */
#ifndef LB_HARNESS_REPORT_H
#define LB_HARNESS_REPORT_H

#include <stddef.h>

#include "harness_comparison.h"

/* Writes DIR/report.html, comparison.csv, verdicts.csv, intervals.csv,
 * phases.csv, runs.csv and scores.csv (DIR exists). */
int lb_harness_report_write(const struct lb_harness_compare *cmp, const char *dir, char *err,
                            size_t errlen);

#endif
