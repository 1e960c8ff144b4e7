/* summary: the seed's runTest summary of one run, from request records.
 *
 *   latency     = total_ticks of completed non-probes not in WARMING
 *   utilization = server_utilization_latest of RUNNING records, grouped by
 *                 the value itself (a seed quirk: the mean of the distinct
 *                 values), kept under the seed's names; the plain per-record
 *                 figures sit beside them as *_per_request.
 *   quantiles: pandas' linear interpolation; stdev: sample (ddof=1).
 * Memory is bounded by the distinct values seen (integer tick latencies in
 * the simulator), not by the number of requests. */
#ifndef LB_SUMMARY_H
#define LB_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

#include "reqlog.h"

#define LB_SUMMARY_QUANTILES 4 /* 0.5, 0.9, 0.99, 0.999 as the seed's table */

struct lb_summary {
  double mean_latency, stdev_latency;
  double latency_q[LB_SUMMARY_QUANTILES];
  double mean_utilization, stdev_utilization, mean_stdev_utilization;
  double utilization_ratio_q[LB_SUMMARY_QUANTILES];
  /* Corrected figures: over every RUNNING record, not distinct values. */
  double mean_utilization_per_request, stdev_utilization_per_request;
  /* Accounting of every request sent. */
  long requests, completed, failed, timed_out, probes;
  long latency_samples;
};

extern const double lb_summary_quantiles[LB_SUMMARY_QUANTILES];

struct lb_summary_acc;
int lb_summary_acc_new(struct lb_summary_acc **out);
void lb_summary_acc_free(struct lb_summary_acc *acc);
int lb_summary_acc_add(struct lb_summary_acc *acc, const struct lb_request_record *rec);
/* Counts a request that was not recorded (data_frequency sampling). */
void lb_summary_acc_count(struct lb_summary_acc *acc, enum lb_outcome o, int is_probe);
int lb_summary_compute(const struct lb_summary_acc *acc, struct lb_summary *out);

/* The seed's summary CSV: algorithm,mean_latency,...,p99.9_utilization_ratio
 * then the testbed's columns (run, seed, counts, corrected utilization). */
void lb_summary_write_header(FILE *f);
void lb_summary_write_row(FILE *f, const char *algorithm, int run, unsigned long long seed,
                          const struct lb_summary *s);
/* A CSV cell, quoted where it holds a comma, quote or line break. */
void lb_summary_put_text(FILE *f, const char *s);

/* Reader of a summary CSV (the writer's, or the seed's df.to_csv()):
 * columns found by header name, rows as text cells (csv.h's splitting).
 * open: 0; -errno when the file cannot be opened (err "PATH: why");
 * -ENODATA when it is empty (err "PATH:1: expected a header line, got an
 * empty file"). next: 1 with a row (a blank line is a row of one empty
 * cell), 0 at the end, -EIO on a read error. */
struct lb_summary_reader;
int lb_summary_reader_open(const char *path, struct lb_summary_reader **out, char *err,
                           size_t errlen);
int lb_summary_reader_column(const struct lb_summary_reader *r, const char *name); /* -1: none */
int lb_summary_reader_next(struct lb_summary_reader *r, char *err, size_t errlen);
/* The current row's cells: how many, and cell col (NULL past the row's end). */
int lb_summary_reader_cells(const struct lb_summary_reader *r);
const char *lb_summary_reader_cell(const struct lb_summary_reader *r, int col);
void lb_summary_reader_close(struct lb_summary_reader *r);

/* pandas Series.quantile (linear) over sorted values. */
double lb_quantile_sorted(const double *sorted, size_t n, double q);

#endif
