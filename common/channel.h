/* channel: what one client knows of one server in its subset (the seed's
 * Channel, less the network, which belongs to the driver). Pickers read
 * channels; only drivers write them. */
#ifndef LB_CHANNEL_H
#define LB_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"
#include "window.h"

struct lb_channel {
  int index;  /* position in the client's subset: pickers key state on it */
  int server; /* fleet-wide server index */
  int requests_in_flight; /* this client's requests and probes sent on it
                             and not yet received back */
  struct lb_window latency; /* total ticks of the last client_requests_buffer
                               completed requests and probes (seed: completed) */
  bool has_report;          /* some request completed on it */
  struct lb_server_report report; /* header of the latest completed one */
  /* The server's current state without the network (the seed's "quantum
   * tunnelled" cost): set by the simulator, or by lbclient from the oracle
   * board; NULL where no oracle exists. */
  const struct lb_server_report *oracle;
  /* Requests and probes completed on the channel so far (on_completed):
   * lets a picker notice a fresh report or latency sample. */
  unsigned long completed_count;
  /* The driver's clock (ticks) at each completion, beside latency (same
   * window size): a picker that decays by time takes each sample at its
   * own arrival (peak_ewma). */
  struct lb_window completed_at;
  /* The latest probe answer (report.has_probe_answer) and when it came:
   * kept apart from report, which the next response overwrites. */
  unsigned long probe_answers;
  double probe_rif, probe_latency, probe_at;
};

int lb_channel_init(struct lb_channel *ch, int index, int server, size_t latency_window);
void lb_channel_close(struct lb_channel *ch);
/* Driver hooks, in the seed's order: sent raises rif; received lowers it
 * (response left the server); completed records latency and report. */
void lb_channel_on_sent(struct lb_channel *ch);
void lb_channel_on_received(struct lb_channel *ch);
void lb_channel_on_completed(struct lb_channel *ch, double total_ticks,
                             const struct lb_server_report *report);
/* The same, at the driver's clock now_ticks (completed_at, probe_at). */
void lb_channel_on_completed_at(struct lb_channel *ch, double now_ticks, double total_ticks,
                                const struct lb_server_report *report);

#endif
