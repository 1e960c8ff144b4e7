/* reqlog: one record per request, with the seed's column names (in ticks,
 * fractional in real runs) so a seed user loads it into pandas unchanged,
 * plus the testbed's columns (outcome, nanosecond timestamps). The simulator,
 * lbclient and lbharness all write and read this one format. */
#ifndef LB_REQLOG_H
#define LB_REQLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"

enum lb_stage { LB_STAGE_WARMING = 1, LB_STAGE_RUNNING = 2, LB_STAGE_COOLING = 3 };
enum lb_outcome { LB_OUTCOME_COMPLETED, LB_OUTCOME_FAILED, LB_OUTCOME_TIMED_OUT };

struct lb_request_record {
  enum lb_stage stage; /* stage when it completed (seed) */
  int client, server;  /* written "Client N", "Server N" */
  bool is_probe;
  enum lb_outcome outcome;
  double started_on_tick, completed_on_tick;
  double tick_at_send, tick_at_server_queue, tick_at_processing, tick_at_receive,
      tick_at_completion;
  double picking_ticks, send_ticks, server_queue_ticks, processing_ticks, receive_ticks;
  double total_ticks; /* sum of the five */
  bool has_report;
  struct lb_server_report report; /* the server_* columns */
  /* Real runs only (0 in the simulator): CLOCK_MONOTONIC ns. */
  int64_t intended_ns, send_ns, server_queue_ns, processing_ns, receive_ns, completion_ns;
  /* The model's draws for this request, ticks (overhead = real - modelled). */
  double modelled_ticks;
};

/* CSV: header then one row per record; empty cell where the seed has None. */
void lb_reqlog_write_header(FILE *f);
int lb_reqlog_write(FILE *f, const struct lb_request_record *rec);
/* Reader: columns found by header name, so extra or reordered columns are
 * fine. Returns 1 with *rec filled, 0 at end, -EINVAL with "FILE:LINE: ..." */
struct lb_reqlog_reader;
int lb_reqlog_reader_open(const char *path, struct lb_reqlog_reader **out, char *err, size_t errlen);
int lb_reqlog_reader_next(struct lb_reqlog_reader *r, struct lb_request_record *rec, char *err,
                          size_t errlen);
void lb_reqlog_reader_close(struct lb_reqlog_reader *r);

/* Shortest text that strtod reads back as v ("nan", "inf", "-inf" where not
 * finite); writes at most len bytes, like snprintf. */
void lb_reqlog_format_double(char *buf, size_t len, double v);

const char *lb_stage_name(enum lb_stage s);         /* "WARMING", ... */
const char *lb_outcome_name(enum lb_outcome o);     /* "completed", ... */

#endif
