/* client_metrics: the client's counts as Prometheus text. */
#include "client_metrics.h"

#include <stdio.h>

#include "client_driver.h"
#include "clock.h"

#define P "lbtestbed_client_"

void lb_client_metrics_init(struct lb_client_metrics *m) {
  for (int k = 0; k < 2; k++) {
    atomic_init(&m->sent[k], 0);
    for (int o = 0; o < 3; o++)
      atomic_init(&m->ended[k][o], 0);
  }
  lb_prom_hist_init(&m->latency);
  lb_prom_hist_init(&m->timer_late);
}

void lb_client_metrics_sent(struct lb_client_metrics *m, bool is_probe) {
  if (m)
    atomic_fetch_add_explicit(&m->sent[is_probe], 1, memory_order_relaxed);
}

void lb_client_metrics_ended(struct lb_client_metrics *m, bool is_probe, enum lb_outcome outcome,
                             int64_t intended_ns) {
  if (!m || (unsigned)outcome > LB_OUTCOME_TIMED_OUT)
    return;
  atomic_fetch_add_explicit(&m->ended[is_probe][outcome], 1, memory_order_relaxed);
  if (outcome == LB_OUTCOME_COMPLETED && !is_probe)
    lb_prom_hist_observe_ns(&m->latency, lb_clock_now_ns() - intended_ns);
}

void lb_client_metrics_timer_late(struct lb_client_metrics *m, int64_t late_ns) {
  if (m)
    lb_prom_hist_observe_ns(&m->timer_late, late_ns);
}

void lb_client_metrics_collect(void *ctx, struct lb_prom_text *t) {
  struct lb_client_metrics *m = ctx;
  static const char *const kinds[2] = {"request", "probe"};
  static const char *const outcomes[3] = {"completed", "failed", "timed_out"};
  char labels[64];
  uint64_t sent = 0, ended = 0;
  lb_prom_family(t, P "sent_total", "counter", "Requests and probes sent (picked).");
  for (int k = 0; k < 2; k++) {
    uint64_t v = atomic_load_explicit(&m->sent[k], memory_order_relaxed);
    snprintf(labels, sizeof(labels), "kind=\"%s\"", kinds[k]);
    lb_prom_sample_u64(t, P "sent_total", labels, v);
    sent += v;
  }
  lb_prom_family(t, P "requests_total", "counter", "Requests and probes ended, by outcome.");
  for (int k = 0; k < 2; k++)
    for (int o = 0; o < 3; o++) {
      uint64_t v = atomic_load_explicit(&m->ended[k][o], memory_order_relaxed);
      snprintf(labels, sizeof(labels), "kind=\"%s\",outcome=\"%s\"", kinds[k], outcomes[o]);
      lb_prom_sample_u64(t, P "requests_total", labels, v);
      ended += v;
    }
  lb_prom_family(t, P "requests_in_flight", "gauge", "Requests and probes sent, not yet ended.");
  lb_prom_sample(t, P "requests_in_flight", NULL, sent >= ended ? (double)(sent - ended) : 0);
  lb_prom_hist_write(t, P "request_latency_seconds",
                     "Latency of completed requests from their intended send time.", &m->latency);
  lb_prom_hist_write(t, P "timer_lateness_seconds",
                     "How late the driver's timers woke against their deadlines.", &m->timer_late);
}
