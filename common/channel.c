/* channel: the client's view of one server (the seed's Channel, less the
 * network). */
#include "channel.h"

#include <errno.h>
#include <string.h>

int lb_channel_init(struct lb_channel *ch, int index, int server, size_t latency_window) {
  memset(ch, 0, sizeof(*ch));
  ch->index = index;
  ch->server = server;
  int rc = lb_window_init(&ch->latency, latency_window);
  if (rc < 0)
    return rc;
  rc = lb_window_init(&ch->completed_at, latency_window);
  if (rc < 0)
    lb_window_close(&ch->latency);
  return rc;
}

void lb_channel_close(struct lb_channel *ch) {
  if (!ch)
    return;
  lb_window_close(&ch->latency);
  lb_window_close(&ch->completed_at);
}

void lb_channel_on_sent(struct lb_channel *ch) {
  ch->requests_in_flight++;
}

void lb_channel_on_received(struct lb_channel *ch) {
  ch->requests_in_flight--;
}

void lb_channel_on_completed(struct lb_channel *ch, double total_ticks,
                             const struct lb_server_report *report) {
  lb_channel_on_completed_at(ch, 0, total_ticks, report);
}

void lb_channel_on_completed_at(struct lb_channel *ch, double now_ticks, double total_ticks,
                                const struct lb_server_report *report) {
  /* seed: self.completed = self.completed.insert(request), every request
   * and probe, whatever its latency. */
  lb_window_insert(&ch->latency, total_ticks);
  lb_window_insert(&ch->completed_at, now_ticks);
  if (report) {
    ch->report = *report;
    ch->has_report = true;
    if (report->has_probe_answer) {
      ch->probe_answers++;
      ch->probe_rif = report->probe_rif;
      ch->probe_latency = report->probe_latency;
      ch->probe_at = now_ticks;
    }
  }
  ch->completed_count++;
}
