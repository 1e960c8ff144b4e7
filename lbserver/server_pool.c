/* server_pool: one FIFO queue, a resizable pool of worker threads, precise
 * interruptible waits for the processing time. */
#include "server_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

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
};

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
  bool stopping;
  uint64_t seq;
  int64_t last_sample_ns, busy_acc_ns, latency_sum_ns;
  int completed_in_interval;
  struct lb_server_pool_counts counts;
  struct lb_server_late_ring work_late; /* processing waits, not interrupted */
};

int64_t lb_server_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void spin_until(struct worker *w, int64_t deadline_ns) {
  while (!atomic_load_explicit(&w->interrupt, memory_order_acquire) &&
         lb_server_now_ns() < deadline_ns) {
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
  if (wake > lb_server_now_ns()) {
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

static void *worker_main(void *arg) {
  struct worker *w = arg;
  struct lb_server_pool *p = w->pool;
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
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
      int64_t now = lb_server_now_ns();
      job->queue_ns += now - job->queued_since_ns;
      job->start_ns = now;
      job->dequeue_seq = ++p->seq;
      job->work_ns = p->cfg.work_cb ? p->cfg.work_cb(p->cfg.ctx, job) : 0;
      if (job->work_ns < 0)
        job->work_ns = 0;
      work = job->work_ns; /* job is not ours once unlocked: a resize may requeue it */
      deadline = now + work;
      w->busy_from_ns = now;
      p->processing++;
    }
    w->job = job;
    atomic_store_explicit(&w->interrupt, false, memory_order_relaxed);
    pthread_mutex_unlock(&p->lock);

    if (work > 0)
      wait_until(w, deadline, p->cfg.work, p->cfg.wake_early_ns);
    int64_t end = lb_server_now_ns();

    pthread_mutex_lock(&p->lock);
    if (w->job != job || p->stopping)
      continue; /* demoted (the job is queued again) or stopping */
    w->job = NULL;
    p->processing--;
    if (work > 0)
      lb_server_late_ring_record(&p->work_late, deadline, end - deadline);
    job->end_ns = end;
    job->processing_ns = end - job->start_ns;
    if (end > w->busy_from_ns)
      p->busy_acc_ns += end - w->busy_from_ns;
    p->completed_in_interval++;
    p->latency_sum_ns += end - job->arrival_ns;
    p->counts.completed++;
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
  struct worker *w = calloc(1, sizeof(*w));
  if (!w)
    return -ENOMEM;
  w->pool = p;
  atomic_init(&w->interrupt, false);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&w->wait_lock, NULL);
  pthread_cond_init(&w->wait_cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_attr_init(&ta);
  pthread_attr_setstacksize(&ta, WORKER_STACK);
  rc = -pthread_create(&w->tid, &ta, worker_main, w);
  pthread_attr_destroy(&ta);
  if (rc < 0) {
    worker_free(w);
    return rc;
  }
  w->next = p->workers;
  p->workers = w;
  p->threads++;
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

static void join_all(struct worker *list) {
  while (list) {
    struct worker *next = list->next;
    pthread_join(list->tid, NULL);
    worker_free(list);
    list = next;
  }
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
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->work_cond, NULL);
  rc = lb_server_late_ring_init(&p->work_late);
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
  for (struct worker *w = p->workers; w; w = w->next)
    interrupt_worker(w);
  struct worker *all = p->workers;
  p->workers = NULL;
  pthread_mutex_unlock(&p->lock);
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
  lb_server_late_ring_close(&p->work_late);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->work_cond);
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
    if (inline_ok && !p->head && p->processing < p->threads) {
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
  int64_t now = lb_server_now_ns();
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
  join_all(exited);
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
