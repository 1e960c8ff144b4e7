/* server_timer: tick + min-heap of held items on one thread. */
#include "server_timer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "clock.h"
#include "server_pool.h"

struct held {
  int64_t deadline_ns;
  uint64_t seq;
  void *item;
};

struct lb_server_timer {
  struct lb_server_timer_config cfg;
  pthread_t tid;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stop, joined;
  struct held *heap;
  size_t len, cap;
  uint64_t seq;
  int64_t next_tick_ns;
  uint64_t ticks_skipped;
  struct lb_server_late_ring tick_late, hold_late;
  atomic_bool kicked; /* a new earliest deadline came while spinning */
};

static bool held_before(const struct held *a, const struct held *b) {
  return a->deadline_ns < b->deadline_ns || (a->deadline_ns == b->deadline_ns && a->seq < b->seq);
}

static void heap_up(struct held *h, size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!held_before(&h[i], &h[parent]))
      break;
    struct held tmp = h[i];
    h[i] = h[parent];
    h[parent] = tmp;
    i = parent;
  }
}

static void heap_down(struct held *h, size_t len, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < len && held_before(&h[l], &h[m]))
      m = l;
    if (r < len && held_before(&h[r], &h[m]))
      m = r;
    if (m == i)
      break;
    struct held tmp = h[i];
    h[i] = h[m];
    h[m] = tmp;
    i = m;
  }
}

static void *timer_main(void *arg) {
  struct lb_server_timer *t = arg;
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  prctl(PR_SET_NAME, "lbs-timer", 0, 0, 0);
  pthread_mutex_lock(&t->lock);
  while (!t->stop) {
    int64_t now = lb_clock_now_ns();
    while (t->len > 0 && t->heap[0].deadline_ns <= now) {
      struct held h = t->heap[0];
      t->heap[0] = t->heap[--t->len];
      heap_down(t->heap, t->len, 0);
      lb_server_late_ring_record(&t->hold_late, h.deadline_ns, now - h.deadline_ns);
      pthread_mutex_unlock(&t->lock);
      t->cfg.due_cb(t->cfg.ctx, h.item);
      pthread_mutex_lock(&t->lock);
    }
    if (t->next_tick_ns <= now) {
      int64_t deadline = t->next_tick_ns;
      lb_server_late_ring_record(&t->tick_late, deadline, now - deadline);
      pthread_mutex_unlock(&t->lock);
      t->cfg.tick_cb(t->cfg.ctx, deadline, now);
      pthread_mutex_lock(&t->lock);
      t->next_tick_ns += t->cfg.tick_ns;
      now = lb_clock_now_ns();
      if (t->next_tick_ns <= now) { /* could not keep up: skip whole ticks */
        int64_t behind = (now - t->next_tick_ns) / t->cfg.tick_ns + 1;
        t->ticks_skipped += (uint64_t)behind;
        t->next_tick_ns += behind * t->cfg.tick_ns;
      }
      continue;
    }
    /* Held responses wake early and spin; ticks (accounting only, and
     * every tick of an idle server) just sleep. */
    int64_t tick = t->next_tick_ns, early = t->cfg.wake_early_ns;
    int64_t held = t->len > 0 ? t->heap[0].deadline_ns : INT64_MAX;
    if (early > 0 && held - early <= now) {
      /* Close enough: spin to it (or to a tick before it), unlocked; adds
       * go on, and an earlier deadline ends the spin. */
      int64_t until = held < tick ? held : tick;
      atomic_store_explicit(&t->kicked, false, memory_order_relaxed);
      pthread_mutex_unlock(&t->lock);
      while (lb_clock_now_ns() < until && !atomic_load_explicit(&t->kicked, memory_order_acquire)) {
      }
      pthread_mutex_lock(&t->lock);
      continue;
    }
    int64_t wake = held - early < tick ? held - early : tick;
    struct timespec ts = {.tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000};
    pthread_cond_timedwait(&t->cond, &t->lock, &ts);
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

static void timer_release(struct lb_server_timer *t) {
  pthread_mutex_destroy(&t->lock);
  pthread_cond_destroy(&t->cond);
  free(t->heap);
  lb_server_late_ring_close(&t->tick_late);
  lb_server_late_ring_close(&t->hold_late);
  free(t);
}

int lb_server_timer_new(const struct lb_server_timer_config *cfg, struct lb_server_timer **out) {
  int rc = 0;
  pthread_condattr_t ca;
  *out = NULL;
  if (cfg->tick_ns <= 0 || !cfg->tick_cb || !cfg->due_cb)
    return -EINVAL;
  struct lb_server_timer *t = calloc(1, sizeof(*t));
  if (!t)
    return -ENOMEM;
  t->cfg = *cfg;
  t->next_tick_ns = cfg->start_ns + cfg->tick_ns;
  atomic_init(&t->kicked, false);
  t->cap = 256;
  t->heap = malloc(t->cap * sizeof(*t->heap));
  int rc1 = lb_server_late_ring_init(&t->tick_late);
  int rc2 = lb_server_late_ring_init(&t->hold_late);
  pthread_mutex_init(&t->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&t->cond, &ca);
  pthread_condattr_destroy(&ca);
  if (!t->heap || rc1 < 0 || rc2 < 0) {
    timer_release(t);
    return -ENOMEM;
  }
  rc = -pthread_create(&t->tid, NULL, timer_main, t);
  if (rc < 0) {
    timer_release(t);
    return rc;
  }
  *out = t;
  return 0;
}

int lb_server_timer_add(struct lb_server_timer *t, int64_t deadline_ns, void *item) {
  int rc = 0;
  pthread_mutex_lock(&t->lock);
  if (t->len == t->cap) {
    size_t cap = t->cap * 2;
    struct held *h = realloc(t->heap, cap * sizeof(*h));
    if (!h) {
      rc = -ENOMEM;
      goto out;
    }
    t->heap = h;
    t->cap = cap;
  }
  t->heap[t->len] = (struct held){.deadline_ns = deadline_ns, .seq = t->seq++, .item = item};
  heap_up(t->heap, t->len);
  t->len++;
  if (t->heap[0].seq == t->seq - 1) { /* new earliest deadline */
    pthread_cond_signal(&t->cond);
    atomic_store_explicit(&t->kicked, true, memory_order_release);
  }
out:
  pthread_mutex_unlock(&t->lock);
  return rc;
}

size_t lb_server_timer_pending(struct lb_server_timer *t) {
  pthread_mutex_lock(&t->lock);
  size_t n = t->len;
  pthread_mutex_unlock(&t->lock);
  return n;
}

void lb_server_timer_lateness(struct lb_server_timer *t, struct lb_server_lateness *ticks,
                              struct lb_server_lateness *holds, uint64_t *ticks_skipped) {
  pthread_mutex_lock(&t->lock);
  if (ticks)
    lb_server_late_ring_summary(&t->tick_late, ticks);
  if (holds)
    lb_server_late_ring_summary(&t->hold_late, holds);
  if (ticks_skipped)
    *ticks_skipped = t->ticks_skipped;
  pthread_mutex_unlock(&t->lock);
}

int64_t lb_server_timer_tick_of(const struct lb_server_timer *t, int64_t deadline_ns) {
  return (deadline_ns - t->cfg.start_ns) / t->cfg.tick_ns;
}

void lb_server_timer_stop(struct lb_server_timer *t) {
  if (!t || t->joined)
    return;
  pthread_mutex_lock(&t->lock);
  t->stop = true;
  pthread_cond_signal(&t->cond);
  atomic_store_explicit(&t->kicked, true, memory_order_release);
  pthread_mutex_unlock(&t->lock);
  pthread_join(t->tid, NULL);
  t->joined = true;
}

void lb_server_timer_free(struct lb_server_timer *t, void (*drop)(void *ctx, void *item)) {
  if (!t)
    return;
  lb_server_timer_stop(t);
  for (size_t i = 0; i < t->len; i++)
    if (drop)
      drop(t->cfg.ctx, t->heap[i].item);
  timer_release(t);
}
