/* harness_compare: `lbharness compare` — the simulator against the real
 * fleet, scenario by scenario: lbsim and the real runs (or their logs)
 * loaded into a comparison (harness_comparison.h), its tables printed and
 * its report written (harness_report.h). */
#ifndef LB_HARNESS_COMPARE_H
#define LB_HARNESS_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "harness_comparison.h"

/* Makes dir ready for one report: created when missing; an empty folder is
 * taken as it is (so is one that holds only the marker: a compare that
 * compared nothing). A folder that is not empty is refused (-EEXIST: one
 * report per folder) unless force, and with force only when an earlier
 * compare made it (its marker file or report.html): then its contents
 * are removed. Leaves a marker file (.lbharness-compare) in it. */
int lb_harness_compare_prepare_out(const char *dir, bool force, char *err, size_t errlen);
/* Runs everything; prints the tables to out. A scenario that fails (a
 * daemon crashed, a bad file) is reported on stderr and left out; the
 * others are still compared and reported, and it returns -ECHILD. */
int lb_harness_compare_main(struct lb_harness_compare *cmp, char *const *scenarios, int nscenarios,
                            FILE *out, char *err, size_t errlen);
void lb_harness_compare_close(struct lb_harness_compare *cmp);

#endif
