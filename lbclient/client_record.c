/* client_record: phases and ticks of one finished request. */
#include "client_record.h"

#include <math.h>
#include <string.h>

#include "rules.h"

static double ticks_of(const struct lb_record_clock *clk, int64_t ns) {
  return (double)ns / (double)clk->tick_ns;
}

static double tick_at(const struct lb_record_clock *clk, int64_t t) {
  return (double)(t - clk->t0_ns) / (double)clk->tick_ns;
}

void lb_record_fill(const struct lb_record_clock *clk, const struct lb_record_input *in,
                    struct lb_request_record *rec) {
  memset(rec, 0, sizeof(*rec));
  rec->client = in->client;
  rec->server = in->server;
  rec->is_probe = in->is_probe;
  rec->outcome = in->outcome;
  int64_t pick_done = in->committed ? in->pick_done_ns : in->completion_ns;
  int64_t send_start = pick_done, queue_start = pick_done, proc_start = pick_done,
          recv_start = pick_done;
  if (in->answered) {
    int64_t hold_client = in->written_ns - pick_done;
    int64_t unaccounted = in->completion_ns - in->written_ns - (int64_t)in->queue_ns -
                          (int64_t)in->processing_ns - (int64_t)in->hold_ns;
    if (unaccounted < 0)
      unaccounted = 0;
    queue_start = pick_done + hold_client + unaccounted / 2;
    proc_start = queue_start + (int64_t)in->queue_ns;
    recv_start = proc_start + (int64_t)in->processing_ns;
    if (recv_start > in->completion_ns) { /* clocks disagree: keep the order */
      recv_start = in->completion_ns;
      if (proc_start > recv_start)
        proc_start = recv_start;
      if (queue_start > proc_start)
        queue_start = proc_start;
    }
  } else {
    /* no answer: everything after the pick counts as the send phase */
    queue_start = proc_start = recv_start = in->completion_ns;
  }
  rec->intended_ns = in->intended_ns;
  rec->send_ns = send_start;
  rec->server_queue_ns = queue_start;
  rec->processing_ns = proc_start;
  rec->receive_ns = recv_start;
  rec->completion_ns = in->completion_ns;

  rec->started_on_tick = tick_at(clk, in->intended_ns);
  rec->completed_on_tick = tick_at(clk, in->completion_ns);
  rec->tick_at_send = tick_at(clk, send_start);
  rec->tick_at_server_queue = tick_at(clk, queue_start);
  rec->tick_at_processing = tick_at(clk, proc_start);
  rec->tick_at_receive = tick_at(clk, recv_start);
  rec->tick_at_completion = rec->completed_on_tick;
  rec->picking_ticks = ticks_of(clk, send_start - in->intended_ns);
  rec->send_ticks = ticks_of(clk, queue_start - send_start);
  rec->server_queue_ticks = ticks_of(clk, proc_start - queue_start);
  rec->processing_ticks = ticks_of(clk, recv_start - proc_start);
  rec->receive_ticks = ticks_of(clk, in->completion_ns - recv_start);
  rec->total_ticks = ticks_of(clk, in->completion_ns - in->intended_ns);
  rec->stage = lb_rules_stage(rec->completed_on_tick, clk->warm_period, clk->total_ticks);
  rec->has_report = in->has_report;
  if (in->has_report)
    rec->report = in->report;
  rec->modelled_ticks = in->send_delay_ticks + in->response_delay_ticks +
                        (in->answered ? ticks_of(clk, (int64_t)in->processing_ns) : 0);
}
