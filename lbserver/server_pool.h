/* server_pool: the server's work. ONE FIFO queue (mutex + condvar) served by
 * a fixed pool of pthreads. A worker "processes" a job by waiting, to an
 * absolute CLOCK_MONOTONIC deadline, for the job's processing time (or by
 * burning CPU until then with LB_WORK_SPIN); a zero time skips the wait.
 *
 * Resizing follows the seed's Server.reset: when the new thread count is
 * below the number of jobs processing, the jobs started last are demoted to
 * the FRONT of the queue (their waits are interrupted) and their workers
 * retire; idle workers retire first. No sockets here: the owner gets each
 * job back through done_cb, on the worker thread, with no lock held.
 * Who times the wait (to an absolute CLOCK_MONOTONIC deadline, timer slack
 * 1 ns, interruptible by a resize): with a wake-early spin, each worker
 * itself; without (the default for ticks of 10 ms and more), one clock
 * thread for the whole pool, which wakes each worker once, at its job's
 * end, and also releases the owner's held responses (lb_server_pool_hold);
 * it wakes clock_slack_ns after the earliest deadline, so that deadlines
 * that close together (a tick's arrivals come in bursts) share a wake-up.
 * Either way each job occupies one real thread from its start to its end. */
#ifndef LB_SERVER_POOL_H
#define LB_SERVER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "server_lateness.h"

struct lb_server_job {
  struct lb_server_job *next; /* queue link, owned by the pool while queued */
  int64_t arrival_ns;         /* submitted */
  int64_t queued_since_ns;    /* latest (re)entry into the queue */
  int64_t start_ns;           /* latest processing start */
  int64_t end_ns;             /* processing end */
  int64_t work_ns;            /* processing time of the latest attempt */
  int64_t queue_ns;           /* total time queued, over every attempt */
  int64_t processing_ns;      /* time in a worker, latest attempt */
  uint64_t dequeue_seq;       /* order of the latest dequeue */
  int demotions;              /* times a resize put it back in the queue */
  int64_t busy_from_ns;       /* pool-internal: busy-time mark while started, unassigned */
  void *user;
};

/* Called at dequeue, under the pool's lock: the job's processing time. */
typedef int64_t (*lb_server_work_cb)(void *ctx, struct lb_server_job *job);
/* Called when processing ended, on the worker thread, with no lock held. */
typedef void (*lb_server_done_cb)(void *ctx, struct lb_server_job *job);
/* Called by lb_server_pool_free for each job still queued or processing. */
typedef void (*lb_server_drop_cb)(void *ctx, struct lb_server_job *job);
/* A held item (lb_server_pool_hold): due, on the clock thread with no lock
 * held; or dropped by lb_server_pool_free. */
typedef void (*lb_server_item_cb)(void *ctx, void *item);

struct lb_server_pool_config {
  int threads;   /* >= 1 */
  int max_queue; /* 0 = unbounded (the seed) */
  enum lb_work work;
  int64_t wake_early_ns; /* LB_WORK_SLEEP: sleep to this before the deadline, spin the rest */
  int64_t clock_slack_ns; /* clocked: deadlines this close share the clock's wake-up */
  lb_server_work_cb work_cb;
  lb_server_done_cb done_cb;
  lb_server_drop_cb drop_cb; /* may be NULL */
  lb_server_item_cb held_cb, held_drop_cb; /* for lb_server_pool_hold; may be NULL */
  void *ctx;
};

/* What happened since the previous sample (a tick's observation). */
struct lb_server_pool_sample {
  int64_t interval_ns;    /* since the previous sample */
  int64_t busy_ns;        /* worker time spent processing in the interval */
  int threads;            /* current thread count */
  int queued;             /* at the sample */
  int processing;         /* at the sample */
  int processing_ending;  /* of those, ending within interval_ns of the sample */
  int completed;          /* jobs whose processing ended in the interval */
  int64_t latency_sum_ns; /* of those: end - arrival */
};

struct lb_server_pool_counts {
  uint64_t submitted, rejected, completed, demoted;
};

struct lb_server_pool;

int lb_server_pool_new(const struct lb_server_pool_config *cfg, int64_t now_ns,
                       struct lb_server_pool **out);
/* Stops every worker (interrupting waits; jobs still queued or processing
 * are dropped, not completed) and frees. NULL is a no-op. */
void lb_server_pool_free(struct lb_server_pool *p);
/* Queues a job: 0, -EAGAIN when the queue is full (max_queue), -ESHUTDOWN
 * after free began. */
int lb_server_pool_submit(struct lb_server_pool *p, struct lb_server_job *job, int64_t now_ns);
/* As submit, but when the queue is empty and a thread is idle the job is
 * dequeued at once on the caller's thread (work_cb under the lock, as a
 * worker would, in the same order). A zero processing time completes it
 * there: returns 1 with start_ns, end_ns, queue_ns and processing_ns set
 * and done_cb NOT called (the caller finishes the job itself; no thread
 * hand-off). A non-zero time starts now (no queue time; it counts as
 * processing) and an idle worker takes it over, waiting to start + work:
 * its wake-up overlaps the processing. 0. -EAGAIN and -ESHUTDOWN as
 * submit. */
int lb_server_pool_submit_inline(struct lb_server_pool *p, struct lb_server_job *job,
                                 int64_t now_ns);
/* Clocked pools (LB_WORK_SLEEP, no wake-early): one clock thread times
 * every worker's wait; it also releases items held with this to held_cb at
 * deadline_ns, so processing ends and holds due together cost one wake-up.
 * 0, -ENOTSUP (not clocked, or no held_cb), -ESHUTDOWN, -ENOMEM. */
int lb_server_pool_hold(struct lb_server_pool *p, int64_t deadline_ns, void *item);
bool lb_server_pool_clocked(const struct lb_server_pool *p);
/* New thread count (>= 1); demotes as described above. 0 or -errno. */
int lb_server_pool_resize(struct lb_server_pool *p, int threads);
void lb_server_pool_sample(struct lb_server_pool *p, int64_t now_ns,
                           struct lb_server_pool_sample *out);
void lb_server_pool_counts(struct lb_server_pool *p, struct lb_server_pool_counts *out);
/* Jobs queued or processing. */
int lb_server_pool_pending(struct lb_server_pool *p);
/* Copies up to cap queued jobs, front first, into out; returns how many are
 * queued (for tests and debugging). */
size_t lb_server_pool_queued_jobs(struct lb_server_pool *p, struct lb_server_job **out, size_t cap);
int lb_server_pool_threads(struct lb_server_pool *p);
/* How late processing waits ended (interrupted ones left out). */
void lb_server_pool_lateness(struct lb_server_pool *p, struct lb_server_lateness *out);
/* How late held items were released. */
void lb_server_pool_hold_lateness(struct lb_server_pool *p, struct lb_server_lateness *out);


#endif
