/* client_record: turns one finished request's timestamps into a reqlog
 * record in fractional ticks (the seed's phases) plus nanosecond columns.
 *
 *   picking        intended start -> pick done
 *   send           the client's hold (send delay) + half the unaccounted time
 *   server_queue   queue_ns reported by the server
 *   processing     processing_ns reported by the server
 *   receive        the server's hold (hold_ns) + the other half
 * "Unaccounted" is what the wire and both event loops took: completion -
 * written - queue - processing - hold, clipped at 0; receive takes whatever
 * makes the five phases sum exactly to completion - intended.
 * The stage is the seed's (lb_rules_stage), by completion tick. */
#ifndef LB_CLIENT_RECORD_H
#define LB_CLIENT_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "reqlog.h"

struct lb_record_clock {
  int64_t t0_ns;   /* CLOCK_MONOTONIC of tick 0 */
  int64_t tick_ns; /* one tick */
  int warm_period; /* lb_rules_warm_period */
  int total_ticks;
};

struct lb_record_input {
  int client, server;
  bool is_probe;
  enum lb_outcome outcome;
  bool committed, written, answered;
  int64_t intended_ns, pick_done_ns, written_ns, completion_ns;
  uint64_t queue_ns, processing_ns, hold_ns;     /* from the response */
  double send_delay_ticks, response_delay_ticks; /* the model's draws */
  bool has_report;
  struct lb_server_report report;
};

void lb_record_fill(const struct lb_record_clock *clk, const struct lb_record_input *in,
                    struct lb_request_record *rec);

#endif
