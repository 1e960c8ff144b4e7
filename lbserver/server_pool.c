/* server_pool: one FIFO queue, a resizable pool of worker threads, precise
 * interruptible waits for the processing time.
 *
 * Who times a worker's wait: with LB_WORK_SLEEP and no wake-early spin, one
 * clock thread keeps the deadlines of every waiting worker in a min-heap and
 * wakes each at its deadline; a worker is then woken once per job (at its
 * end) instead of twice (handed the job, then its own timer), and the
 * clock's one wake-up serves every deadline due together (the model's
 * completions fall on tick boundaries). With a spin (wake_early_ns > 0)
 * each worker times its own wait, waking early and spinning on its own
 * core: more precise, and more CPU.
 * Over 800 lines on purpose: queue, workers, clock thread and resizing
 * share one lock and one set of wake-ups; apart they would expose them. */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include "server_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "clock.h"

#define WORKER_STACK (256 * 1024)

struct worker {
  struct lb_server_pool *pool;
  pthread_t tid;
  struct worker *next;       /* every worker not yet joined */
  struct lb_server_job *job; /* processing; pool lock */
  int64_t busy_from_ns;      /* max(job start, latest sample); pool lock */
  bool retire;               /* pool lock */
  bool exited;               /* pool lock */
  /* The processing wait, interruptible by a demotion or a stop. */
  pthread_mutex_t wait_lock;
  pthread_cond_t wait_cond;
  atomic_bool interrupt;
  /* Clocked waits: the clock sets due for wait number wait_gen (wait_lock). */
  uint64_t wait_gen;
  bool due;
  struct worker *idle_next; /* clocked: on the pool's idle list (pool lock) */
  bool idle;
};

/* A clocked wait: wake worker w at deadline for its wait number gen (a wait
 * that ended otherwise leaves a stale entry, skipped by its gen); or, with
 * w NULL, a held item for cfg.held_cb. */
struct timed_wait {
  int64_t deadline_ns;
  struct worker *w;
  uint64_t gen;
  void *item;
};

#define CLOCK_BATCH 64

struct lb_server_pool {
  struct lb_server_pool_config cfg;
  pthread_mutex_t lock;
  pthread_cond_t work_cond;
  struct lb_server_job *head, *tail;
  /* Started on submit (an idle thread, an empty queue), counted in
   * processing, not yet taken by a worker: the worker's wake-up overlaps
   * the processing instead of adding to the queue time. busy_from_ns is
   * their busy-time mark. */
  struct lb_server_job *started_head, *started_tail;
  int nstarted;
  int queued, processing;
  int threads; /* target: workers not retiring */
  struct worker *workers;
  /* Joined workers, kept for reuse and freed with the pool, so that the
   * clock never signals freed memory. */
  struct worker *spare;
  bool stopping;
  /* The clock (cfg.work == LB_WORK_SLEEP and no wake-early). */
  bool clocked, has_clock;
  pthread_t clock_tid;
  /* The clock's own lock (inside the pool's when both are taken): the
   * heap of timed waits and held items, hold_late, clock_stop. The clock
   * never takes the pool's lock, so completions do not wait for it. */
  pthread_mutex_t clock_lock;
  pthread_cond_t clock_cond;
  bool clock_stop;
  struct timed_wait *timed;
  size_t ntimed, timed_cap;
  int64_t clock_wake_ns; /* when the clock will wake next; INT64_MAX: when told */
  struct worker *idle; /* clocked: workers waiting for a job, last idle first */
  uint64_t seq;
  int64_t last_sample_ns, busy_acc_ns, latency_sum_ns;
  int completed_in_interval;
  struct lb_server_pool_counts counts;
  struct lb_server_late_ring work_late; /* processing waits, not interrupted */
  struct lb_server_late_ring hold_late; /* held items' releases; clock_lock */
};

static void spin_until(struct worker *w, int64_t deadline_ns) {
  while (!atomic_load_explicit(&w->interrupt, memory_order_acquire) &&
         lb_clock_now_ns() < deadline_ns) {
  }
}

/* Sleeps to wake_early before the deadline, then spins the rest (a wake-up
 * is tens of us late on a busy machine; a spin is not). */
static void wait_until(struct worker *w, int64_t deadline_ns, enum lb_work work,
                       int64_t wake_early_ns) {
  if (work == LB_WORK_SPIN) {
    spin_until(w, deadline_ns);
    return;
  }
  int64_t wake = deadline_ns - wake_early_ns;
  if (wake > lb_clock_now_ns()) {
    struct timespec ts = {.tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000};
    pthread_mutex_lock(&w->wait_lock);
    while (!atomic_load_explicit(&w->interrupt, memory_order_acquire)) {
      if (pthread_cond_timedwait(&w->wait_cond, &w->wait_lock, &ts) == ETIMEDOUT)
        break;
    }
    pthread_mutex_unlock(&w->wait_lock);
  }
  spin_until(w, deadline_ns);
}

static bool timed_before(const struct timed_wait *a, const struct timed_wait *b) {
  return a->deadline_ns < b->deadline_ns;
}

/* Under the clock's lock. -ENOMEM leaves the heap as it was. */
static int timed_push(struct lb_server_pool *p, struct timed_wait e) {
  if (p->ntimed == p->timed_cap) {
    size_t cap = p->timed_cap ? 2 * p->timed_cap : 64;
    struct timed_wait *t = realloc(p->timed, cap * sizeof(*t));
    if (!t)
      return -ENOMEM;
    p->timed = t;
    p->timed_cap = cap;
  }
  size_t i = p->ntimed++;
  p->timed[i] = e;
  while (i > 0 && timed_before(&p->timed[i], &p->timed[(i - 1) / 2])) {
    struct timed_wait tmp = p->timed[i];
    p->timed[i] = p->timed[(i - 1) / 2];
    p->timed[(i - 1) / 2] = tmp;
    i = (i - 1) / 2;
  }
  /* A new earliest deadline the clock would otherwise serve too late. */
  if (i == 0 && e.deadline_ns + p->cfg.clock_slack_ns < p->clock_wake_ns)
    pthread_cond_signal(&p->clock_cond);
  return 0;
}

static struct timed_wait timed_pop(struct lb_server_pool *p) {
  struct timed_wait top = p->timed[0];
  p->timed[0] = p->timed[--p->ntimed];
  for (size_t i = 0;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < p->ntimed && timed_before(&p->timed[l], &p->timed[m]))
      m = l;
    if (r < p->ntimed && timed_before(&p->timed[r], &p->timed[m]))
      m = r;
    if (m == i)
      break;
    struct timed_wait tmp = p->timed[i];
    p->timed[i] = p->timed[m];
    p->timed[m] = tmp;
    i = m;
  }
  return top;
}

/* Wakes every worker whose deadline has come, then sleeps to the next. The
 * wake-ups and the held items' callbacks go out with the pool unlocked, so
 * that a woken worker does not find the pool's lock held by the clock. */
static void *clock_main(void *arg) {
  struct lb_server_pool *p = arg;
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  prctl(PR_SET_NAME, "lbs-clock", 0, 0, 0); /* threads named for top, perf and /proc */
  struct timed_wait due[CLOCK_BATCH];
  pthread_mutex_lock(&p->clock_lock);
  while (!p->clock_stop) {
    int64_t now = lb_clock_now_ns();
    size_t n = 0;
    while (p->ntimed > 0 && p->timed[0].deadline_ns <= now && n < CLOCK_BATCH) {
      due[n] = timed_pop(p);
      if (!due[n].w)
        lb_server_late_ring_record(&p->hold_late, due[n].deadline_ns, now - due[n].deadline_ns);
      n++;
    }
    if (n > 0) {
      pthread_mutex_unlock(&p->clock_lock);
      for (size_t i = 0; i < n; i++) {
        struct worker *w = due[i].w;
        if (!w) {
          p->cfg.held_cb(p->cfg.ctx, due[i].item);
          continue;
        }
        /* Worker structs outlive their threads (p->spare, freed after the
         * clock is joined): safe even for a stale entry, which its gen
         * tells apart. */
        pthread_mutex_lock(&w->wait_lock);
        if (w->wait_gen == due[i].gen) {
          w->due = true;
          pthread_cond_signal(&w->wait_cond);
        }
        pthread_mutex_unlock(&w->wait_lock);
      }
      pthread_mutex_lock(&p->clock_lock);
      continue; /* then look again */
    }
    if (p->ntimed == 0) {
      p->clock_wake_ns = INT64_MAX;
      pthread_cond_wait(&p->clock_cond, &p->clock_lock);
    } else {
      /* Wake at the earliest deadline plus the slack: what falls due in
       * between is served by the same wake-up, late by at most the slack. */
      int64_t at = p->timed[0].deadline_ns + p->cfg.clock_slack_ns;
      p->clock_wake_ns = at;
      struct timespec ts = {.tv_sec = at / 1000000000, .tv_nsec = at % 1000000000};
      pthread_cond_timedwait(&p->clock_cond, &p->clock_lock, &ts);
    }
  }
  pthread_mutex_unlock(&p->clock_lock);
  return NULL;
}

/* Under the pool lock: the clock will wake w at deadline_ns. -ENOMEM: the
 * worker times its own wait instead. */
static int clock_wait_begin(struct lb_server_pool *p, struct worker *w, int64_t deadline_ns) {
  pthread_mutex_lock(&w->wait_lock);
  uint64_t gen = ++w->wait_gen;
  w->due = false;
  pthread_mutex_unlock(&w->wait_lock);
  pthread_mutex_lock(&p->clock_lock);
  int rc = timed_push(p, (struct timed_wait){.deadline_ns = deadline_ns, .w = w, .gen = gen});
  pthread_mutex_unlock(&p->clock_lock);
  return rc;
}

/* Unlocked: until the clock says the deadline came (or wake_now), or an
 * interrupt. */
static void clock_wait(struct worker *w) {
  pthread_mutex_lock(&w->wait_lock);
  while (!w->due && !atomic_load_explicit(&w->interrupt, memory_order_acquire))
    pthread_cond_wait(&w->wait_cond, &w->wait_lock);
  w->due = false;
  w->wait_gen++; /* whatever ended it, the heap's entry is stale now */
  pthread_mutex_unlock(&w->wait_lock);
}

/* Ends w's clock_wait now. */
static void wake_now(struct worker *w) {
  pthread_mutex_lock(&w->wait_lock);
  w->due = true;
  pthread_cond_signal(&w->wait_cond);
  pthread_mutex_unlock(&w->wait_lock);
}

static void interrupt_worker(struct worker *w) {
  pthread_mutex_lock(&w->wait_lock);
  atomic_store_explicit(&w->interrupt, true, memory_order_release);
  pthread_cond_signal(&w->wait_cond);
  pthread_mutex_unlock(&w->wait_lock);
}

static void push_front(struct lb_server_pool *p, struct lb_server_job *job) {
  job->next = p->head;
  p->head = job;
  if (!p->tail)
    p->tail = job;
  p->queued++;
}

static void append(struct lb_server_job **head, struct lb_server_job **tail,
                   struct lb_server_job *job) {
  if (*tail)
    (*tail)->next = job;
  else
    *head = job;
  *tail = job;
}

static struct lb_server_job *pop_front(struct lb_server_pool *p) {
  struct lb_server_job *job = p->head;
  p->head = job->next;
  if (!p->head)
    p->tail = NULL;
  job->next = NULL;
  p->queued--;
  return job;
}

/* Under the pool lock: job leaves the queue now; its processing time is
 * drawn (work_cb), as the seed draws it at dequeue. */
static void dequeue_job(struct lb_server_pool *p, struct lb_server_job *job, int64_t now) {
  job->queue_ns += now - job->queued_since_ns;
  job->start_ns = now;
  job->dequeue_seq = ++p->seq;
  job->work_ns = p->cfg.work_cb ? p->cfg.work_cb(p->cfg.ctx, job) : 0;
  if (job->work_ns < 0)
    job->work_ns = 0;
}

/* Under the pool lock: w processes job from now. */
static void occupy(struct lb_server_pool *p, struct worker *w, struct lb_server_job *job,
                   int64_t now) {
  w->job = job;
  w->busy_from_ns = now;
  p->processing++;
  atomic_store_explicit(&w->interrupt, false, memory_order_relaxed);
}

/* Under the pool lock: the job on w ended at end (not demoted). */
static void end_job(struct lb_server_pool *p, struct worker *w, struct lb_server_job *job,
                    int64_t end, int64_t deadline) {
  w->job = NULL;
  p->processing--;
  if (job->work_ns > 0)
    lb_server_late_ring_record(&p->work_late, deadline, end - deadline);
  job->end_ns = end;
  job->processing_ns = end - job->start_ns;
  if (end > w->busy_from_ns)
    p->busy_acc_ns += end - w->busy_from_ns;
  p->completed_in_interval++;
  p->latency_sum_ns += end - job->arrival_ns;
  p->counts.completed++;
}

static void idle_unlink(struct lb_server_pool *p, struct worker *w) {
  for (struct worker **link = &p->idle; *link; link = &(*link)->idle_next)
    if (*link == w) {
      *link = w->idle_next;
      break;
    }
  w->idle = false;
}

static void idle_push(struct lb_server_pool *p, struct worker *w) {
  w->idle_next = p->idle;
  p->idle = w;
  w->idle = true;
}

/* Under the pool lock, clocked: an idle worker, off the idle list; NULL
 * when none is. */
static struct worker *idle_pop(struct lb_server_pool *p) {
  struct worker *w = p->idle;
  while (w && w->retire) /* retiring: it unlinks itself when it wakes */
    w = w->idle_next;
  if (w)
    idle_unlink(p, w);
  return w;
}

/* A clocked worker: it sleeps on its own condvar until the clock says its
 * job ended (or a resize or stop interrupts it). Handed a job while idle, it
 * is not woken until that job's end: one wake-up per job. */
static void *clocked_worker_main(void *arg) {
  struct worker *w = arg;
  struct lb_server_pool *p = w->pool;
  prctl(PR_SET_NAME, "lbs-worker", 0, 0, 0);
  pthread_mutex_lock(&p->lock);
  while (!w->retire && !p->stopping) {
    if (!w->job && p->head) { /* the FIFO's next job, started by this worker */
      if (w->idle)
        idle_unlink(p, w);
      struct lb_server_job *job = pop_front(p);
      int64_t now = lb_clock_now_ns();
      dequeue_job(p, job, now);
      occupy(p, w, job, now);
      if (job->work_ns > 0 && clock_wait_begin(p, w, now + job->work_ns) < 0)
        wake_now(w); /* no room in the clock: end it now rather than never */
    }
    if (!w->job && !w->idle)
      idle_push(p, w);
    struct lb_server_job *job = w->job;
    if (!job || job->work_ns > 0) {
      pthread_mutex_unlock(&p->lock);
      clock_wait(w);
      pthread_mutex_lock(&p->lock);
    }
    if (w->idle)
      idle_unlink(p, w);
    job = w->job; /* handed one while idle, or NULL after a demotion */
    if (!job || p->stopping || w->retire ||
        (job->work_ns > 0 && atomic_load_explicit(&w->interrupt, memory_order_acquire)))
      continue;
    end_job(p, w, job, lb_clock_now_ns(), job->start_ns + job->work_ns);
    pthread_mutex_unlock(&p->lock);
    if (p->cfg.done_cb)
      p->cfg.done_cb(p->cfg.ctx, job);
    pthread_mutex_lock(&p->lock);
  }
  if (w->idle)
    idle_unlink(p, w);
  w->exited = true;
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

/* A worker that times its own waits (a wake-early spin, or LB_WORK_SPIN). */
static void *worker_main(void *arg) {
  struct worker *w = arg;
  struct lb_server_pool *p = w->pool;
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  prctl(PR_SET_NAME, "lbs-worker", 0, 0, 0);
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!w->retire && !p->stopping && !p->head && !p->started_head)
      pthread_cond_wait(&p->work_cond, &p->lock);
    if (w->retire || p->stopping)
      break;
    struct lb_server_job *job;
    int64_t work, deadline;
    if (p->started_head) { /* started on submit: already processing */
      job = p->started_head;
      p->started_head = job->next;
      if (!p->started_head)
        p->started_tail = NULL;
      job->next = NULL;
      p->nstarted--;
      work = job->work_ns;
      deadline = job->start_ns + work;
      w->busy_from_ns = job->busy_from_ns;
    } else {
      job = pop_front(p);
      int64_t now = lb_clock_now_ns();
      dequeue_job(p, job, now);
      work = job->work_ns; /* job is not ours once unlocked: a resize may requeue it */
      deadline = now + work;
      occupy(p, w, job, now);
    }
    w->job = job;
    atomic_store_explicit(&w->interrupt, false, memory_order_relaxed);
    pthread_mutex_unlock(&p->lock);

    if (work > 0)
      wait_until(w, deadline, p->cfg.work, p->cfg.wake_early_ns);
    int64_t end = lb_clock_now_ns();

    pthread_mutex_lock(&p->lock);
    if (w->job != job || p->stopping)
      continue; /* demoted (the job is queued again) or stopping */
    end_job(p, w, job, end, deadline);
    pthread_mutex_unlock(&p->lock);
    if (p->cfg.done_cb)
      p->cfg.done_cb(p->cfg.ctx, job);
    pthread_mutex_lock(&p->lock);
  }
  w->exited = true;
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void worker_free(struct worker *w) {
  pthread_mutex_destroy(&w->wait_lock);
  pthread_cond_destroy(&w->wait_cond);
  free(w);
}

/* Under the pool lock. */
static int spawn_worker(struct lb_server_pool *p) {
  int rc = 0;
  pthread_condattr_t ca;
  pthread_attr_t ta;
  struct worker *w = p->spare;
  if (w) { /* its lock and condvar are still initialised; wait_gen goes on */
    p->spare = w->next;
    w->job = NULL;
    w->retire = w->exited = w->due = w->idle = false;
    w->idle_next = NULL;
  } else {
    if (!(w = calloc(1, sizeof(*w))))
      return -ENOMEM;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->wait_lock, NULL);
    pthread_cond_init(&w->wait_cond, &ca);
    pthread_condattr_destroy(&ca);
  }
  w->pool = p;
  atomic_init(&w->interrupt, false);
  pthread_attr_init(&ta);
  pthread_attr_setstacksize(&ta, WORKER_STACK);
  rc = -pthread_create(&w->tid, &ta, p->clocked ? clocked_worker_main : worker_main, w);
  pthread_attr_destroy(&ta);
  if (rc < 0) {
    w->next = p->spare;
    p->spare = w;
    return rc;
  }
  w->next = p->workers;
  p->workers = w;
  p->threads++;
  if (p->clocked) /* idle from now, before its thread first runs */
    idle_push(p, w);
  return 0;
}

/* Unlinks exited workers under the lock; the caller joins them after. */
static struct worker *take_exited(struct lb_server_pool *p) {
  struct worker *done = NULL, **link = &p->workers;
  while (*link) {
    struct worker *w = *link;
    if (w->exited) {
      *link = w->next;
      w->next = done;
      done = w;
    } else {
      link = &w->next;
    }
  }
  return done;
}

/* Joins the workers of list and keeps their structs as spares. */
static void join_all(struct lb_server_pool *p, struct worker *list) {
  for (struct worker *w = list; w; w = w->next)
    pthread_join(w->tid, NULL);
  if (!list)
    return;
  pthread_mutex_lock(&p->lock);
  while (list) {
    struct worker *next = list->next;
    list->next = p->spare;
    p->spare = list;
    list = next;
  }
  pthread_mutex_unlock(&p->lock);
}

int lb_server_pool_new(const struct lb_server_pool_config *cfg, int64_t now_ns,
                       struct lb_server_pool **out) {
  int rc = 0;
  *out = NULL;
  if (cfg->threads < 1 || cfg->max_queue < 0)
    return -EINVAL;
  struct lb_server_pool *p = calloc(1, sizeof(*p));
  if (!p)
    return -ENOMEM;
  p->cfg = *cfg;
  p->last_sample_ns = now_ns;
  p->clocked = cfg->work == LB_WORK_SLEEP && cfg->wake_early_ns <= 0;
  p->clock_wake_ns = INT64_MAX;
  if (p->cfg.clock_slack_ns < 0)
    p->cfg.clock_slack_ns = 0;
  /* Adaptive: workers woken together for deadlines due together take the
   * lock one after another for a few hundred ns each; spinning briefly
   * costs less than sleeping on it. */
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
  pthread_mutex_init(&p->lock, &ma);
  pthread_mutex_init(&p->clock_lock, &ma);
  pthread_mutexattr_destroy(&ma);
  pthread_cond_init(&p->work_cond, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->clock_cond, &ca);
  pthread_condattr_destroy(&ca);
  rc = lb_server_late_ring_init(&p->work_late);
  if (rc == 0)
    rc = lb_server_late_ring_init(&p->hold_late);
  if (rc == 0 && p->clocked) {
    rc = -pthread_create(&p->clock_tid, NULL, clock_main, p);
    p->has_clock = rc == 0;
  }
  pthread_mutex_lock(&p->lock);
  for (int i = 0; i < cfg->threads && rc == 0; i++)
    rc = spawn_worker(p);
  pthread_mutex_unlock(&p->lock);
  if (rc < 0) {
    lb_server_pool_free(p);
    return rc;
  }
  *out = p;
  return 0;
}

void lb_server_pool_free(struct lb_server_pool *p) {
  if (!p)
    return;
  pthread_mutex_lock(&p->lock);
  p->stopping = true;
  pthread_cond_broadcast(&p->work_cond);
  pthread_mutex_lock(&p->clock_lock);
  p->clock_stop = true;
  pthread_cond_broadcast(&p->clock_cond);
  pthread_mutex_unlock(&p->clock_lock);
  for (struct worker *w = p->workers; w; w = w->next)
    interrupt_worker(w);
  struct worker *all = p->workers;
  p->workers = NULL;
  pthread_mutex_unlock(&p->lock);
  if (p->has_clock)
    pthread_join(p->clock_tid, NULL);
  /* Workers no longer touch the pool's lists once stopping is seen. */
  for (struct worker *w = all; w; w = w->next)
    pthread_join(w->tid, NULL);
  while (all) {
    struct worker *next = all->next;
    if (all->job && p->cfg.drop_cb)
      p->cfg.drop_cb(p->cfg.ctx, all->job);
    worker_free(all);
    all = next;
  }
  while (p->started_head) {
    struct lb_server_job *job = p->started_head;
    p->started_head = job->next;
    if (p->cfg.drop_cb)
      p->cfg.drop_cb(p->cfg.ctx, job);
  }
  while (p->head) {
    struct lb_server_job *job = pop_front(p);
    if (p->cfg.drop_cb)
      p->cfg.drop_cb(p->cfg.ctx, job);
  }
  while (p->spare) {
    struct worker *next = p->spare->next;
    worker_free(p->spare);
    p->spare = next;
  }
  for (size_t i = 0; i < p->ntimed; i++)
    if (!p->timed[i].w && p->cfg.held_drop_cb)
      p->cfg.held_drop_cb(p->cfg.ctx, p->timed[i].item);
  free(p->timed);
  lb_server_late_ring_close(&p->work_late);
  lb_server_late_ring_close(&p->hold_late);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->work_cond);
  pthread_cond_destroy(&p->clock_cond);
  pthread_mutex_destroy(&p->clock_lock);
  free(p);
}

static int submit(struct lb_server_pool *p, struct lb_server_job *job, int64_t now_ns,
                  bool inline_ok) {
  int rc = 0;
  pthread_mutex_lock(&p->lock);
  if (p->stopping) {
    rc = -ESHUTDOWN;
  } else if (p->cfg.max_queue > 0 && p->queued >= p->cfg.max_queue) {
    p->counts.rejected++;
    rc = -EAGAIN;
  } else {
    job->next = NULL;
    job->arrival_ns = job->queued_since_ns = now_ns;
    job->queue_ns = job->processing_ns = 0;
    job->demotions = 0;
    p->counts.submitted++;
    struct worker *w = p->clocked && !p->head ? idle_pop(p) : NULL;
    if (w) { /* dequeued at once by the idle worker, which wakes at its end */
      dequeue_job(p, job, now_ns);
      if (job->work_ns == 0 && inline_ok) { /* no hand-off at all */
        idle_push(p, w);
        job->end_ns = now_ns;
        p->completed_in_interval++;
        p->counts.completed++;
        pthread_mutex_unlock(&p->lock);
        return 1;
      }
      occupy(p, w, job, now_ns);
      if (job->work_ns == 0 || clock_wait_begin(p, w, now_ns + job->work_ns) < 0)
        wake_now(w);
      pthread_mutex_unlock(&p->lock);
      return 0;
    }
    /* Clocked, no worker idle: the queue (a worker between its job's end
     * and the idle list takes it as it comes back; the started list is for
     * workers that time themselves only). */
    if (inline_ok && !p->clocked && !p->head && p->processing < p->threads) {
      /* Dequeued at once, as an idle worker would. */
      job->work_ns = p->cfg.work_cb ? p->cfg.work_cb(p->cfg.ctx, job) : 0;
      job->start_ns = now_ns;
      job->dequeue_seq = ++p->seq;
      if (job->work_ns <= 0) {
        job->work_ns = 0;
        job->end_ns = now_ns;
        p->completed_in_interval++;
        p->counts.completed++;
        pthread_mutex_unlock(&p->lock);
        return 1;
      }
      /* Processing from now; an idle worker takes it over. */
      job->busy_from_ns = now_ns;
      append(&p->started_head, &p->started_tail, job);
      p->nstarted++;
      p->processing++;
      pthread_cond_signal(&p->work_cond);
      pthread_mutex_unlock(&p->lock);
      return 0;
    }
    append(&p->head, &p->tail, job);
    p->queued++;
    pthread_cond_signal(&p->work_cond);
  }
  pthread_mutex_unlock(&p->lock);
  return rc;
}

int lb_server_pool_hold(struct lb_server_pool *p, int64_t deadline_ns, void *item) {
  if (!p->clocked || !p->cfg.held_cb)
    return -ENOTSUP;
  pthread_mutex_lock(&p->clock_lock);
  int rc = p->clock_stop
               ? -ESHUTDOWN
               : timed_push(p, (struct timed_wait){.deadline_ns = deadline_ns, .item = item});
  pthread_mutex_unlock(&p->clock_lock);
  return rc;
}

int lb_server_pool_submit(struct lb_server_pool *p, struct lb_server_job *job, int64_t now_ns) {
  return submit(p, job, now_ns, false);
}

int lb_server_pool_submit_inline(struct lb_server_pool *p, struct lb_server_job *job,
                                 int64_t now_ns) {
  return submit(p, job, now_ns, true);
}

/* A job processing: on a worker, or (w NULL) started and not yet taken. */
struct busy_ref {
  struct worker *w;
  struct lb_server_job *job;
};

static int by_seq_desc(const void *a, const void *b) {
  const struct busy_ref *ra = a, *rb = b;
  uint64_t sa = ra->job->dequeue_seq, sb = rb->job->dequeue_seq;
  return sa < sb ? 1 : sa > sb ? -1 : 0;
}

static bool idle_worker(const struct worker *w) {
  return !w->retire && !w->exited && !w->job;
}

static void unlink_started(struct lb_server_pool *p, struct lb_server_job *job) {
  struct lb_server_job **link = &p->started_head, *prev = NULL;
  while (*link != job) {
    prev = *link;
    link = &(*link)->next;
  }
  *link = job->next;
  if (p->started_tail == job)
    p->started_tail = prev;
  job->next = NULL;
  p->nstarted--;
}

/* Under the lock: retire `need` workers, idle ones first (but not those the
 * started jobs wait for), then the ones whose jobs started last, whose jobs
 * go back to the front of the queue in the seed's order (each starved
 * request inserted at 0, in start order). */
static int retire_workers(struct lb_server_pool *p, int need) {
  int busy_n = 0, spare = -p->nstarted;
  for (struct worker *w = p->workers; w; w = w->next)
    spare += idle_worker(w);
  for (struct worker *w = p->workers; w && need > 0 && spare > 0; w = w->next) {
    if (idle_worker(w)) {
      w->retire = true;
      p->threads--;
      need--;
      spare--;
      interrupt_worker(w); /* a clocked idle worker waits on its own condvar */
    }
  }
  if (need == 0)
    goto done;
  for (struct worker *w = p->workers; w; w = w->next)
    if (!w->retire && w->job)
      busy_n++;
  struct busy_ref *busy = calloc((size_t)(busy_n + p->nstarted) + 1, sizeof(*busy));
  if (!busy)
    return -ENOMEM;
  busy_n = 0;
  for (struct worker *w = p->workers; w; w = w->next)
    if (!w->retire && w->job)
      busy[busy_n++] = (struct busy_ref){w, w->job};
  for (struct lb_server_job *j = p->started_head; j; j = j->next)
    busy[busy_n++] = (struct busy_ref){NULL, j};
  qsort(busy, (size_t)busy_n, sizeof(*busy), by_seq_desc);
  if (need > busy_n)
    need = busy_n;
  int64_t now = lb_clock_now_ns();
  for (int i = need - 1; i >= 0; i--) { /* earliest-started of them first */
    struct worker *w = busy[i].w;
    struct lb_server_job *job = busy[i].job;
    int64_t busy_from;
    if (w) {
      w->job = NULL;
      busy_from = w->busy_from_ns;
    } else { /* its worker-to-be is an idle one: that one retires */
      unlink_started(p, job);
      busy_from = job->busy_from_ns;
      for (w = p->workers; !idle_worker(w); w = w->next) {
      }
    }
    p->processing--;
    if (now > busy_from)
      p->busy_acc_ns += now - busy_from;
    job->queued_since_ns = now;
    job->demotions++;
    p->counts.demoted++;
    push_front(p, job);
    w->retire = true;
    p->threads--;
    interrupt_worker(w);
  }
  free(busy);
done:
  pthread_cond_broadcast(&p->work_cond);
  return 0;
}

int lb_server_pool_resize(struct lb_server_pool *p, int threads) {
  int rc = 0;
  if (threads < 1)
    return -EINVAL;
  pthread_mutex_lock(&p->lock);
  struct worker *exited = take_exited(p);
  if (p->stopping)
    rc = -ESHUTDOWN;
  while (rc == 0 && p->threads < threads)
    rc = spawn_worker(p);
  if (rc == 0 && p->threads > threads)
    rc = retire_workers(p, p->threads - threads);
  pthread_mutex_unlock(&p->lock);
  join_all(p, exited);
  return rc;
}

void lb_server_pool_sample(struct lb_server_pool *p, int64_t now_ns,
                           struct lb_server_pool_sample *out) {
  pthread_mutex_lock(&p->lock);
  int64_t busy = p->busy_acc_ns;
  int64_t horizon = now_ns + (now_ns - p->last_sample_ns);
  int ending = 0;
  for (struct lb_server_job *j = p->started_head; j; j = j->next) {
    ending += j->start_ns + j->work_ns <= horizon;
    if (now_ns > j->busy_from_ns) {
      busy += now_ns - j->busy_from_ns;
      j->busy_from_ns = now_ns;
    }
  }
  for (struct worker *w = p->workers; w; w = w->next) {
    if (w->job) {
      ending += w->job->start_ns + w->job->work_ns <= horizon;
      if (now_ns > w->busy_from_ns) {
        busy += now_ns - w->busy_from_ns;
        w->busy_from_ns = now_ns;
      }
    }
  }
  out->interval_ns = now_ns - p->last_sample_ns;
  out->busy_ns = busy;
  out->threads = p->threads;
  out->queued = p->queued;
  out->processing = p->processing;
  out->processing_ending = ending;
  out->completed = p->completed_in_interval;
  out->latency_sum_ns = p->latency_sum_ns;
  p->busy_acc_ns = 0;
  p->completed_in_interval = 0;
  p->latency_sum_ns = 0;
  p->last_sample_ns = now_ns;
  pthread_mutex_unlock(&p->lock);
}

void lb_server_pool_counts(struct lb_server_pool *p, struct lb_server_pool_counts *out) {
  pthread_mutex_lock(&p->lock);
  *out = p->counts;
  pthread_mutex_unlock(&p->lock);
}

int lb_server_pool_pending(struct lb_server_pool *p) {
  pthread_mutex_lock(&p->lock);
  int n = p->queued + p->processing;
  pthread_mutex_unlock(&p->lock);
  return n;
}

size_t lb_server_pool_queued_jobs(struct lb_server_pool *p, struct lb_server_job **out,
                                  size_t cap) {
  size_t n = 0;
  pthread_mutex_lock(&p->lock);
  for (struct lb_server_job *j = p->head; j; j = j->next, n++)
    if (n < cap)
      out[n] = j;
  pthread_mutex_unlock(&p->lock);
  return n;
}

int lb_server_pool_threads(struct lb_server_pool *p) {
  pthread_mutex_lock(&p->lock);
  int n = p->threads;
  pthread_mutex_unlock(&p->lock);
  return n;
}

void lb_server_pool_lateness(struct lb_server_pool *p, struct lb_server_lateness *out) {
  pthread_mutex_lock(&p->lock);
  lb_server_late_ring_summary(&p->work_late, out);
  pthread_mutex_unlock(&p->lock);
}

void lb_server_pool_hold_lateness(struct lb_server_pool *p, struct lb_server_lateness *out) {
  pthread_mutex_lock(&p->clock_lock);
  lb_server_late_ring_summary(&p->hold_late, out);
  pthread_mutex_unlock(&p->clock_lock);
}

bool lb_server_pool_clocked(const struct lb_server_pool *p) {
  return p->clocked;
}
