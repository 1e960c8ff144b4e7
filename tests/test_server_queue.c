/* lbserver's FIFO queue and worker pool, without sockets: order, bounds,
 * the seed's demotion on a shrinking reset, sampling, and a resize storm
 * (run it under TSan too: -DLB_TSAN=ON). Every test runs twice: with the
 * pool's clock timing the waits (no wake-early: the default from 10 ms
 * ticks) and with each worker timing its own (a 1 ns wake-early). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "server_pool.h"

#define LONG_NS (60LL * 1000 * 1000 * 1000)
#define WAIT_BOUND_S 30

struct tjob {
  struct lb_server_job job;
  int id;
  int64_t work_ns;    /* first attempt */
  int64_t rework_ns;  /* later attempts (after a demotion) */
  int attempts, done; /* test lock */
};

struct fixture {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int started, done, dropped;
  int order[4096];
  struct held_log *held;
  int slow_done_ms; /* done_cb sleeps this long (the window after a job's end) */
  int in_done;      /* done_cb calls begun */
};

#define TJOB(j) ((struct tjob *)((char *)(j)-offsetof(struct tjob, job)))

static int64_t work_cb(void *ctx, struct lb_server_job *job) {
  struct fixture *f = ctx;
  struct tjob *t = TJOB(job);
  pthread_mutex_lock(&f->lock);
  int64_t ns = t->attempts++ == 0 ? t->work_ns : t->rework_ns;
  f->started++;
  pthread_cond_broadcast(&f->cond);
  pthread_mutex_unlock(&f->lock);
  return ns;
}

static void done_cb(void *ctx, struct lb_server_job *job) {
  struct fixture *f = ctx;
  struct tjob *t = TJOB(job);
  pthread_mutex_lock(&f->lock);
  f->in_done++;
  pthread_cond_broadcast(&f->cond);
  int slow = f->slow_done_ms;
  pthread_mutex_unlock(&f->lock);
  if (slow > 0) {
    struct timespec ts = {slow / 1000, (long)(slow % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&f->lock);
  t->done++;
  if (f->done < (int)(sizeof(f->order) / sizeof(f->order[0])))
    f->order[f->done] = t->id;
  f->done++;
  pthread_cond_broadcast(&f->cond);
  pthread_mutex_unlock(&f->lock);
}

static void drop_cb(void *ctx, struct lb_server_job *job) {
  struct fixture *f = ctx;
  (void)job;
  pthread_mutex_lock(&f->lock);
  f->dropped++;
  pthread_mutex_unlock(&f->lock);
}

/* Waits (bounded) until *counter >= n; false on the bound. */
static bool wait_for(struct fixture *f, const int *counter, int n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += WAIT_BOUND_S;
  bool ok = true;
  pthread_mutex_lock(&f->lock);
  while (*counter < n && ok)
    ok = pthread_cond_timedwait(&f->cond, &f->lock, &ts) != ETIMEDOUT || *counter >= n;
  pthread_mutex_unlock(&f->lock);
  return ok;
}

static struct fixture *fixture_new(void) {
  struct fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  pthread_mutex_init(&f->lock, NULL);
  pthread_cond_init(&f->cond, NULL);
  return f;
}

static void fixture_free(struct fixture *f) {
  pthread_mutex_destroy(&f->lock);
  pthread_cond_destroy(&f->cond);
  free(f);
}

static struct lb_server_pool *pool_new_early(struct fixture *f, int threads, int max_queue,
                                             enum lb_work work, int64_t wake_early_ns) {
  struct lb_server_pool_config cfg = {
      .threads = threads,
      .max_queue = max_queue,
      .work = work,
      .wake_early_ns = wake_early_ns,
      .work_cb = work_cb,
      .done_cb = done_cb,
      .drop_cb = drop_cb,
      .ctx = f,
  };
  struct lb_server_pool *p = NULL;
  assert_int_equal(lb_server_pool_new(&cfg, lb_clock_now_ns(), &p), 0);
  return p;
}

/* The mode of this pass (see the top): 0 clocked, 1 worker-timed. */
static int64_t g_wake_early_ns;

static struct lb_server_pool *pool_new(struct fixture *f, int threads, int max_queue,
                                       enum lb_work work) {
  struct lb_server_pool *p = pool_new_early(f, threads, max_queue, work, g_wake_early_ns);
  assert_int_equal(lb_server_pool_clocked(p), work == LB_WORK_SLEEP && g_wake_early_ns == 0);
  return p;
}

struct held_log {
  pthread_mutex_t lock;
  int n, dropped;
  uintptr_t item[8];
  int64_t at[8];
};

static void held_cb(void *ctx, void *item) {
  struct held_log *h = ((struct fixture *)ctx)->held;
  pthread_mutex_lock(&h->lock);
  if (h->n < 8) {
    h->item[h->n] = (uintptr_t)item;
    h->at[h->n] = lb_clock_now_ns();
  }
  h->n++;
  pthread_mutex_unlock(&h->lock);
}

static void held_drop_cb(void *ctx, void *item) {
  struct held_log *h = ((struct fixture *)ctx)->held;
  (void)item;
  pthread_mutex_lock(&h->lock);
  h->dropped++;
  pthread_mutex_unlock(&h->lock);
}

/* The clock releases held items at their deadlines, in deadline order, and
 * the pool's free drops what is still held; a pool that times nothing
 * (a wake-early spin) refuses to hold. */
static void test_hold(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct held_log h = {.n = 0};
  pthread_mutex_init(&h.lock, NULL);
  f->held = &h;
  struct lb_server_pool_config cfg = {
      .threads = 1,
      .work = LB_WORK_SLEEP,
      .wake_early_ns = g_wake_early_ns,
      .work_cb = work_cb,
      .done_cb = done_cb,
      .held_cb = held_cb,
      .held_drop_cb = held_drop_cb,
      .ctx = f,
  };
  struct lb_server_pool *p = NULL;
  assert_int_equal(lb_server_pool_new(&cfg, lb_clock_now_ns(), &p), 0);
  int64_t now = lb_clock_now_ns();
  if (g_wake_early_ns > 0) {
    assert_int_equal(lb_server_pool_hold(p, now, (void *)1), -ENOTSUP);
    lb_server_pool_free(p);
    fixture_free(f);
    return;
  }
  int64_t ms = 1000 * 1000;
  assert_int_equal(lb_server_pool_hold(p, now + 30 * ms, (void *)3), 0);
  assert_int_equal(lb_server_pool_hold(p, now + 10 * ms, (void *)1), 0);
  assert_int_equal(lb_server_pool_hold(p, now + 20 * ms, (void *)2), 0);
  assert_int_equal(lb_server_pool_hold(p, now + LONG_NS, (void *)4), 0);
  for (int i = 0; i < 2000; i++) { /* bounded: 20 s */
    pthread_mutex_lock(&h.lock);
    int n = h.n;
    pthread_mutex_unlock(&h.lock);
    if (n >= 3)
      break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&h.lock);
  assert_int_equal(h.n, 3);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(h.item[i], (uintptr_t)(i + 1));
    assert_true(h.at[i] >= now + (i + 1) * 10 * ms); /* never early */
  }
  pthread_mutex_unlock(&h.lock);
  struct lb_server_lateness late;
  lb_server_pool_hold_lateness(p, &late);
  assert_int_equal(late.count, 3);
  assert_true(late.p50_ns >= 0);
  lb_server_pool_free(p);
  assert_int_equal(h.dropped, 1); /* item 4, still held */
  pthread_mutex_destroy(&h.lock);
  fixture_free(f);
}

static void test_fifo_order(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct tjob jobs[50];
  memset(jobs, 0, sizeof(jobs));
  struct lb_server_pool *p = pool_new(f, 1, 0, LB_WORK_SLEEP);
  for (int i = 0; i < 50; i++) {
    jobs[i].id = i;
    assert_int_equal(lb_server_pool_submit(p, &jobs[i].job, lb_clock_now_ns()), 0);
  }
  assert_true(wait_for(f, &f->done, 50));
  for (int i = 0; i < 50; i++) {
    assert_int_equal(f->order[i], i);
    assert_int_equal(jobs[i].done, 1);
    assert_true(jobs[i].job.end_ns >= jobs[i].job.start_ns);
  }
  struct lb_server_pool_counts c;
  lb_server_pool_counts(p, &c);
  assert_int_equal(c.submitted, 50);
  assert_int_equal(c.completed, 50);
  lb_server_pool_free(p);
  assert_int_equal(f->dropped, 0);
  fixture_free(f);
}

static void test_bounded_queue(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct tjob jobs[4];
  memset(jobs, 0, sizeof(jobs));
  jobs[0].work_ns = LONG_NS;
  struct lb_server_pool *p = pool_new(f, 1, 2, LB_WORK_SLEEP);
  assert_int_equal(lb_server_pool_submit(p, &jobs[0].job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->started, 1));
  assert_int_equal(lb_server_pool_submit(p, &jobs[1].job, lb_clock_now_ns()), 0);
  assert_int_equal(lb_server_pool_submit(p, &jobs[2].job, lb_clock_now_ns()), 0);
  assert_int_equal(lb_server_pool_submit(p, &jobs[3].job, lb_clock_now_ns()), -EAGAIN);
  assert_int_equal(lb_server_pool_pending(p), 3);
  struct lb_server_pool_counts c;
  lb_server_pool_counts(p, &c);
  assert_int_equal(c.rejected, 1);
  /* Free interrupts the 60 s wait and drops what is left. */
  lb_server_pool_free(p);
  assert_int_equal(f->dropped, 3);
  assert_int_equal(f->done, 0);
  fixture_free(f);
}

static void check_demotion(enum lb_work work) {
  struct fixture *f = fixture_new();
  struct tjob jobs[5];
  memset(jobs, 0, sizeof(jobs));
  struct lb_server_pool *p = pool_new(f, 3, 0, work);
  for (int i = 0; i < 5; i++) {
    jobs[i].id = i + 1;
    jobs[i].work_ns = i < 3 ? LONG_NS : 0;
  }
  for (int i = 0; i < 3; i++)
    assert_int_equal(lb_server_pool_submit(p, &jobs[i].job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->started, 3));
  /* Nothing frees a thread now: 4 and 5 stay queued. */
  assert_int_equal(lb_server_pool_submit(p, &jobs[3].job, lb_clock_now_ns()), 0);
  assert_int_equal(lb_server_pool_submit(p, &jobs[4].job, lb_clock_now_ns()), 0);

  /* The seed: processing[threads:] (started last) go to the front, each
   * inserted at 0: queue 3, 2, 4, 5. */
  assert_int_equal(lb_server_pool_resize(p, 1), 0);
  assert_int_equal(lb_server_pool_threads(p), 1);
  struct lb_server_job *q[8];
  assert_int_equal(lb_server_pool_queued_jobs(p, q, 8), 4);
  assert_int_equal(TJOB(q[0])->id, 3);
  assert_int_equal(TJOB(q[1])->id, 2);
  assert_int_equal(TJOB(q[2])->id, 4);
  assert_int_equal(TJOB(q[3])->id, 5);
  assert_int_equal(jobs[1].job.demotions, 1);
  assert_int_equal(jobs[2].job.demotions, 1);
  assert_int_equal(jobs[0].job.demotions, 0);
  assert_int_equal(lb_server_pool_pending(p), 5);
  struct lb_server_pool_counts c;
  lb_server_pool_counts(p, &c);
  assert_int_equal(c.demoted, 2);

  /* Growing again serves the queue in that order (1 still holds a thread). */
  assert_int_equal(lb_server_pool_resize(p, 2), 0);
  assert_true(wait_for(f, &f->done, 4));
  assert_int_equal(f->order[0], 3);
  assert_int_equal(f->order[1], 2);
  assert_int_equal(f->order[2], 4);
  assert_int_equal(f->order[3], 5);
  for (int i = 1; i < 5; i++)
    assert_int_equal(jobs[i].done, 1);
  assert_int_equal(jobs[0].done, 0);
  /* A demoted job's queue time covers both of its waits. */
  assert_true(jobs[2].job.queue_ns >= 0);
  assert_int_equal(jobs[2].attempts, 2);
  lb_server_pool_free(p);
  assert_int_equal(f->dropped, 1);
  fixture_free(f);
}

static void test_demotion_on_shrink(void **state) {
  (void)state;
  check_demotion(LB_WORK_SLEEP);
}

static void test_demotion_on_shrink_spin(void **state) {
  (void)state;
  check_demotion(LB_WORK_SPIN);
}

/* Shrinking with idle threads retires them, demoting nothing. */
static void test_shrink_idle_first(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct tjob job = {.id = 1, .work_ns = LONG_NS};
  struct lb_server_pool *p = pool_new(f, 4, 0, LB_WORK_SLEEP);
  assert_int_equal(lb_server_pool_submit(p, &job.job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->started, 1));
  assert_int_equal(lb_server_pool_resize(p, 1), 0);
  assert_int_equal(lb_server_pool_pending(p), 1);
  struct lb_server_job *q[1];
  assert_int_equal(lb_server_pool_queued_jobs(p, q, 1), 0);
  struct lb_server_pool_counts c;
  lb_server_pool_counts(p, &c);
  assert_int_equal(c.demoted, 0);
  assert_int_equal(lb_server_pool_resize(p, 0), -EINVAL);
  lb_server_pool_free(p);
  assert_int_equal(f->dropped, 1);
  fixture_free(f);
}

static void test_sample(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct tjob jobs[2];
  memset(jobs, 0, sizeof(jobs));
  jobs[0].work_ns = 2 * 1000 * 1000;
  jobs[1].work_ns = LONG_NS;
  int64_t t0 = lb_clock_now_ns();
  struct lb_server_pool *p = pool_new(f, 2, 0, LB_WORK_SLEEP);
  struct lb_server_pool_sample s;
  lb_server_pool_sample(p, lb_clock_now_ns(), &s);
  assert_int_equal(s.busy_ns, 0);
  assert_int_equal(s.completed, 0);
  assert_int_equal(s.threads, 2);

  assert_int_equal(lb_server_pool_submit(p, &jobs[0].job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->done, 1));
  assert_int_equal(lb_server_pool_submit(p, &jobs[1].job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->started, 2));
  int64_t now = lb_clock_now_ns();
  lb_server_pool_sample(p, now, &s);
  assert_int_equal(s.completed, 1);
  assert_int_equal(s.processing, 1);
  assert_int_equal(s.queued, 0);
  /* A wait to an absolute deadline never ends early. */
  assert_true(s.latency_sum_ns >= jobs[0].work_ns);
  assert_true(s.busy_ns >= jobs[0].work_ns);
  assert_true(s.busy_ns <= 2 * (now - t0));
  struct lb_server_lateness late;
  lb_server_pool_lateness(p, &late);
  assert_int_equal(late.count, 1); /* the running job's wait is not over */
  assert_true(late.p50_ns >= 0 && late.max_ns == late.p50_ns);
  /* The next interval counts the running job's time only from now. */
  int64_t later = lb_clock_now_ns();
  lb_server_pool_sample(p, later, &s);
  assert_int_equal(s.completed, 0);
  assert_true(s.busy_ns <= later - now);
  lb_server_pool_free(p);
  fixture_free(f);
}

/* Many zero-time jobs while another thread resizes the pool over and over:
 * every job completes exactly once. */
struct storm {
  struct lb_server_pool *p;
  volatile int stop;
};

static void *resizer(void *arg) {
  struct storm *st = arg;
  for (int i = 0; i < 400 && !__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE); i++)
    lb_server_pool_resize(st->p, 1 + i % 7);
  return NULL;
}

static void test_resize_storm(void **state) {
  (void)state;
  enum { N = 3000 };
  struct fixture *f = fixture_new();
  struct tjob *jobs = calloc(N, sizeof(*jobs));
  assert_non_null(jobs);
  for (int i = 0; i < N; i++) {
    jobs[i].id = i;
    jobs[i].work_ns = jobs[i].rework_ns = (i % 5 == 0) ? 100 * 1000 : 0;
  }
  struct storm st = {.p = pool_new(f, 4, 0, LB_WORK_SLEEP)};
  pthread_t tid;
  assert_int_equal(pthread_create(&tid, NULL, resizer, &st), 0);
  for (int i = 0; i < N; i++) { /* half of them inline: started or done on submit */
    int rc = i % 2 ? lb_server_pool_submit_inline(st.p, &jobs[i].job, lb_clock_now_ns())
                   : lb_server_pool_submit(st.p, &jobs[i].job, lb_clock_now_ns());
    assert_true(rc == 0 || rc == 1);
    if (rc == 1) /* done here: the caller finishes it */
      done_cb(f, &jobs[i].job);
  }
  pthread_join(tid, NULL);
  assert_int_equal(lb_server_pool_resize(st.p, 3), 0);
  assert_true(wait_for(f, &f->done, N));
  for (int i = 0; i < N; i++)
    assert_int_equal(jobs[i].done, 1);
  struct lb_server_pool_counts c;
  lb_server_pool_counts(st.p, &c);
  assert_int_equal(c.completed, N);
  assert_int_equal(lb_server_pool_pending(st.p), 0);
  lb_server_pool_free(st.p);
  assert_int_equal(f->dropped, 0);
  free(jobs);
  fixture_free(f);
}

/* submit_inline: a zero time on an idle pool completes on the caller's
 * thread without done_cb; a non-zero time is drawn once (by the caller) and
 * processed by a worker; behind a queued job nothing runs inline. */
static void test_submit_inline(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct tjob jobs[3];
  memset(jobs, 0, sizeof(jobs));
  struct lb_server_pool *p = pool_new(f, 1, 0, LB_WORK_SLEEP);
  for (int i = 0; i < 3; i++)
    jobs[i].id = i;
  jobs[1].work_ns = jobs[1].rework_ns = 1000 * 1000;
  int64_t now = lb_clock_now_ns();
  assert_int_equal(lb_server_pool_submit_inline(p, &jobs[0].job, now), 1);
  assert_int_equal(jobs[0].attempts, 1);
  assert_int_equal(jobs[0].done, 0);
  assert_int_equal(jobs[0].job.start_ns, now);
  assert_int_equal(jobs[0].job.end_ns, now);
  assert_int_equal(jobs[0].job.processing_ns, 0);
  assert_int_equal(jobs[1].attempts, 0);
  assert_int_equal(lb_server_pool_submit_inline(p, &jobs[1].job, lb_clock_now_ns()), 0);
  assert_int_equal(jobs[1].attempts, 1); /* drawn at once: the pool was idle */
  /* queued behind job 1 or with the only thread busy: not inline */
  assert_int_equal(lb_server_pool_submit_inline(p, &jobs[2].job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->done, 2));
  assert_int_equal(f->order[0], 1);
  assert_int_equal(f->order[1], 2);
  assert_int_equal(jobs[1].attempts, 1); /* the worker did not draw again */
  assert_true(jobs[1].job.processing_ns >= 1000 * 1000);
  assert_int_equal(jobs[2].attempts, 1);
  struct lb_server_pool_counts c;
  lb_server_pool_counts(p, &c);
  assert_int_equal(c.submitted, 3);
  assert_int_equal(c.completed, 3);
  struct lb_server_pool_sample smp;
  lb_server_pool_sample(p, lb_clock_now_ns(), &smp);
  assert_int_equal(smp.completed, 3);
  assert_int_equal(smp.processing, 0);
  lb_server_pool_free(p);
  assert_int_equal(f->dropped, 0);
  fixture_free(f);
}

/* A job submitted while the only worker is between its last job's end and
 * the queue (in done_cb) is not lost: it runs when the worker comes back. */
static void test_submit_while_worker_finishes(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct tjob jobs[2];
  memset(jobs, 0, sizeof(jobs));
  f->slow_done_ms = 50;
  struct lb_server_pool *p = pool_new(f, 1, 0, LB_WORK_SLEEP);
  for (int i = 0; i < 2; i++) {
    jobs[i].id = i;
    jobs[i].work_ns = jobs[i].rework_ns = 1000 * 1000;
  }
  assert_int_equal(lb_server_pool_submit_inline(p, &jobs[0].job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->in_done, 1)); /* job 0 ended; its worker is in done_cb */
  assert_int_equal(lb_server_pool_submit_inline(p, &jobs[1].job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->done, 2));
  assert_int_equal(jobs[1].done, 1);
  assert_true(jobs[1].job.processing_ns >= 1000 * 1000);
  lb_server_pool_free(p);
  assert_int_equal(f->dropped, 0);
  fixture_free(f);
}

/* Jobs started on submit count as processing whether or not a worker took
 * them yet: a shrink demotes the one started last, to the queue's front. */
static void test_inline_started_demoted(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct tjob jobs[2];
  memset(jobs, 0, sizeof(jobs));
  struct lb_server_pool *p = pool_new(f, 2, 0, LB_WORK_SLEEP);
  for (int i = 0; i < 2; i++) {
    jobs[i].id = i;
    jobs[i].work_ns = jobs[i].rework_ns = LONG_NS;
    assert_int_equal(lb_server_pool_submit_inline(p, &jobs[i].job, lb_clock_now_ns()), 0);
    assert_int_equal(jobs[i].attempts, 1);
    assert_int_equal(jobs[i].job.queue_ns, 0);
  }
  assert_int_equal(lb_server_pool_pending(p), 2);
  assert_int_equal(lb_server_pool_resize(p, 1), 0);
  struct lb_server_job *q[2];
  assert_int_equal(lb_server_pool_queued_jobs(p, q, 2), 1);
  assert_ptr_equal(q[0], &jobs[1].job);
  assert_int_equal(jobs[1].job.demotions, 1);
  assert_int_equal(lb_server_pool_threads(p), 1);
  assert_int_equal(lb_server_pool_pending(p), 2);
  struct lb_server_pool_counts c;
  lb_server_pool_counts(p, &c);
  assert_int_equal(c.demoted, 1);
  lb_server_pool_free(p);
  assert_int_equal(f->dropped, 2);
  assert_int_equal(f->done, 0);
  fixture_free(f);
}

/* Waking early and spinning the rest never ends processing early: a wait
 * shorter than the margin is all spin, a longer one sleeps then spins. */
static void test_wake_early_never_early(void **state) {
  (void)state;
  struct fixture *f = fixture_new();
  struct tjob jobs[2];
  memset(jobs, 0, sizeof(jobs));
  struct lb_server_pool *p = pool_new_early(f, 2, 0, LB_WORK_SLEEP, 5 * 1000 * 1000);
  jobs[0].work_ns = 3 * 1000 * 1000;  /* within the margin: spun */
  jobs[1].work_ns = 12 * 1000 * 1000; /* slept, then spun */
  for (int i = 0; i < 2; i++)
    assert_int_equal(lb_server_pool_submit(p, &jobs[i].job, lb_clock_now_ns()), 0);
  assert_true(wait_for(f, &f->done, 2));
  for (int i = 0; i < 2; i++)
    assert_true(jobs[i].job.processing_ns >= jobs[i].work_ns);
  lb_server_pool_free(p);
  fixture_free(f);
}

static int clocked_mode(void **state) {
  (void)state;
  g_wake_early_ns = 0;
  return 0;
}

static int worker_timed_mode(void **state) {
  (void)state;
  g_wake_early_ns = 1;
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hold),
      cmocka_unit_test(test_submit_while_worker_finishes),
      cmocka_unit_test(test_fifo_order),         cmocka_unit_test(test_bounded_queue),
      cmocka_unit_test(test_demotion_on_shrink), cmocka_unit_test(test_demotion_on_shrink_spin),
      cmocka_unit_test(test_shrink_idle_first),  cmocka_unit_test(test_sample),
      cmocka_unit_test(test_resize_storm),      cmocka_unit_test(test_submit_inline),
      cmocka_unit_test(test_wake_early_never_early),
      cmocka_unit_test(test_inline_started_demoted),
  };
  int failed = cmocka_run_group_tests_name("clocked", tests, clocked_mode, NULL);
  return failed + cmocka_run_group_tests_name("worker-timed", tests, worker_timed_mode, NULL);
}
