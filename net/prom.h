/* prom: Prometheus metrics, the text exposition format (version 0.0.4)
 * served over http_server.h at GET /metrics.
 *
 * Counters and histograms that other threads update are C11 atomics
 * (relaxed: a scrape sees each value whole, not a snapshot across them);
 * the application writes the exposition in a collect callback, on the loop
 * that serves it. Names follow Prometheus's conventions: a `lbtestbed_`
 * prefix, `_total` for counters, base units (`_seconds`), histograms as
 * `_bucket{le=...}` (cumulative, `+Inf` equal to `_count`), `_sum` and
 * `_count`. */
#ifndef LB_PROM_H
#define LB_PROM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Latency buckets, seconds: 0.5 ms .. 10 s. */
#define LB_PROM_BUCKETS 14
extern const double lb_prom_bucket_bounds[LB_PROM_BUCKETS];

/* A histogram of durations: observe in ns, exposed in seconds. */
struct lb_prom_hist {
  atomic_uint_fast64_t bucket[LB_PROM_BUCKETS + 1]; /* not cumulative; the last is +Inf */
  atomic_uint_fast64_t count, sum_ns;
};

void lb_prom_hist_init(struct lb_prom_hist *h);
/* Thread-safe; a negative duration counts as 0. */
void lb_prom_hist_observe_ns(struct lb_prom_hist *h, int64_t ns);

/* The exposition being written; errors (out of memory) stick. */
struct lb_prom_text {
  char *buf;
  size_t len, cap;
  int err;
};

/* `# HELP` and `# TYPE` of a family (type: counter, gauge, histogram). */
void lb_prom_family(struct lb_prom_text *t, const char *name, const char *type, const char *help);
/* One sample: labels is `key="value",...` or NULL. */
void lb_prom_sample(struct lb_prom_text *t, const char *name, const char *labels, double value);
void lb_prom_sample_u64(struct lb_prom_text *t, const char *name, const char *labels, uint64_t v);
/* A histogram family: its HELP/TYPE lines, buckets, sum and count. */
void lb_prom_hist_write(struct lb_prom_text *t, const char *name, const char *help,
                        const struct lb_prom_hist *h);

typedef void (*lb_prom_collect_cb)(void *ctx, struct lb_prom_text *t);

struct lb_prom_server;

/* Serves GET /metrics on listen:port, on loop (the caller's thread runs
 * it). On failure *out may be set: close and free it as a started one. */
int lb_prom_server_new(uv_loop_t *loop, const char *listen, int port, lb_prom_collect_cb collect,
                       void *ctx, struct lb_prom_server **out, char *err, size_t errlen);
int lb_prom_server_port(const struct lb_prom_server *p);
uint64_t lb_prom_server_scrapes(const struct lb_prom_server *p);
void lb_prom_server_close(struct lb_prom_server *p); /* then run the loop */
void lb_prom_server_free(struct lb_prom_server *p);

/* The same on a thread of its own with its own loop, for a daemon whose
 * loop is out of reach (lbclient): collect runs on that thread, so it may
 * read atomics only. */
struct lb_prom_thread;
int lb_prom_thread_start(const char *listen, int port, lb_prom_collect_cb collect, void *ctx,
                         struct lb_prom_thread **out, char *err, size_t errlen);
int lb_prom_thread_port(const struct lb_prom_thread *pt);
/* Stops the thread and frees; NULL is a no-op. */
void lb_prom_thread_stop(struct lb_prom_thread *pt);

#endif
