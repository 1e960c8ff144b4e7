/* sim_score: the seed's scoring table. For each algorithm (scenario), the
 * "reasonably bad run" of five columns (mean + sample stdev across its
 * runs); each column cut into quintiles across the algorithms as pandas'
 * qcut does, labelled 5 (lowest, "very good") to 1 ("very bad"); the total
 * is their sum; rows sorted by total, highest first (ties keep input
 * order). */
#ifndef LB_SIM_SCORE_H
#define LB_SIM_SCORE_H

#include <stdio.h>

#include "summary.h"

#define SIM_SCORE_COLUMNS 5

struct sim_score_row {
  const char *algorithm;
  double bad_run[SIM_SCORE_COLUMNS]; /* mean + std across runs (NaN: none) */
  int score[SIM_SCORE_COLUMNS];      /* 1..5, 0 where bad_run is NaN */
  int total;
};

extern const char *const sim_score_columns[SIM_SCORE_COLUMNS];

/* rows[i].algorithm and runs[i][0..nruns[i]) in; bad_run, score, total out. */
void sim_score_compute(struct sim_score_row *rows, const struct lb_summary *const *runs,
                       const int *nruns, int n);
/* pandas qcut(values, 5, labels=[5..1]) of one column (NaN gets 0). */
void sim_score_qcut(const double *values, int n, int *labels);
/* Prints the table, sorted, with the seed's words. */
void sim_score_print(FILE *f, const struct sim_score_row *rows, int n);
const char *sim_score_word(int score);

#endif
