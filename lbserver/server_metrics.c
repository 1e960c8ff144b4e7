/* server_metrics: the server's counters and gauges as Prometheus text. */
#include "server_metrics.h"

#include <stdio.h>

#include "server_net.h"

#define P "lbtestbed_server_"

static void lateness(struct lb_prom_text *t, const char *timer,
                     const struct lb_server_lateness *l) {
  static const char *const q[3] = {"p50", "p99", "max"};
  const int64_t v[3] = {l->p50_ns, l->p99_ns, l->max_ns};
  char labels[80];
  for (int i = 0; i < 3; i++) {
    snprintf(labels, sizeof(labels), "timer=\"%s\",stat=\"%s\"", timer, q[i]);
    lb_prom_sample(t, P "timer_lateness_seconds", labels, (double)v[i] / 1e9);
  }
}

void lb_server_metrics_collect(void *ctx, struct lb_prom_text *t) {
  struct lb_server *s = ctx;
  struct lb_server_stats st;
  struct lb_server_gauges g;
  lb_server_stats(s, &st);
  lb_server_gauges(s, &g);

  lb_prom_family(t, P "received_total", "counter", "Requests and probes received.");
  lb_prom_sample_u64(t, P "received_total", "kind=\"request\"", st.requests);
  lb_prom_sample_u64(t, P "received_total", "kind=\"probe\"", st.probes);
  lb_prom_family(t, P "requests_total", "counter",
                 "Requests and probes answered, by outcome (draining: refused while draining).");
  lb_prom_sample_u64(t, P "requests_total", "outcome=\"completed\"", st.completed);
  lb_prom_sample_u64(t, P "requests_total", "outcome=\"rejected\"", st.rejected);
  lb_prom_sample_u64(t, P "requests_total", "outcome=\"draining\"", st.draining_replies);
  lb_prom_sample_u64(t, P "requests_total", "outcome=\"bad_request\"", st.bad_requests);
  lb_prom_hist_write(t, P "request_duration_seconds",
                     "Time of a processed request in the server: queue and processing.",
                     g.duration);
  lb_prom_hist_write(t, P "queue_wait_seconds", "Time of a processed request in the queue.",
                     g.queue_wait);

  lb_prom_family(t, P "queue_length", "gauge", "Requests queued, not yet processing.");
  lb_prom_sample(t, P "queue_length", NULL, g.queued);
  lb_prom_family(t, P "busy_threads", "gauge", "Worker threads processing a request.");
  lb_prom_sample(t, P "busy_threads", NULL, g.busy);
  lb_prom_family(t, P "threads", "gauge", "Worker threads.");
  lb_prom_sample(t, P "threads", NULL, g.threads);
  lb_prom_family(t, P "requests_in_flight", "gauge", "Requests queued or processing.");
  lb_prom_sample(t, P "requests_in_flight", NULL, g.in_flight);
  lb_prom_family(t, P "requests_outstanding", "gauge",
                 "Requests received and not yet answered (held responses included).");
  lb_prom_sample(t, P "requests_outstanding", NULL, (double)g.outstanding);

  lb_prom_family(t, P "timer_lateness_seconds", "gauge",
                 "How late timed wake-ups were: p50, p99 of the latest ones, max of all.");
  lateness(t, "tick", &st.tick_late);
  lateness(t, "hold", &st.hold_late);
  lateness(t, "work", &st.work_late);
  lb_prom_family(t, P "timer_wakeups_total", "counter", "Timed wake-ups measured.");
  lb_prom_sample_u64(t, P "timer_wakeups_total", "timer=\"tick\"", st.tick_late.count);
  lb_prom_sample_u64(t, P "timer_wakeups_total", "timer=\"hold\"", st.hold_late.count);
  lb_prom_sample_u64(t, P "timer_wakeups_total", "timer=\"work\"", st.work_late.count);
  lb_prom_family(t, P "ticks_skipped_total", "counter", "Accounting ticks the timer skipped.");
  lb_prom_sample_u64(t, P "ticks_skipped_total", NULL, st.ticks_skipped);

  lb_prom_family(t, P "connections_total", "counter", "Connections accepted.");
  lb_prom_sample_u64(t, P "connections_total", "protocol=\"tcp\"", st.connections);
  lb_prom_sample_u64(t, P "connections_total", "protocol=\"http\"", st.http_connections);
  lb_prom_family(t, P "bad_frames_total", "counter", "Malformed frames (connection closed).");
  lb_prom_sample_u64(t, P "bad_frames_total", NULL, st.bad_frames);
  lb_prom_family(t, P "resets_total", "counter", "Server resets (the model's).");
  lb_prom_sample_u64(t, P "resets_total", NULL, st.resets);
  lb_prom_family(t, P "write_errors_total", "counter", "Responses that could not be written.");
  lb_prom_sample_u64(t, P "write_errors_total", NULL, st.write_errors);
}
