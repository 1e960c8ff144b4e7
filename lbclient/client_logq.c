/* client_logq: a bounded ring of records and one writer thread. */
#include "client_logq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct lb_logq {
  FILE *f;
  FILE *spill; /* the records of the run, binary, in order */
  long spilled;
  struct lb_request_record *ring;
  size_t cap, head, len;
  bool closing;
  long errors;
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  pthread_t thread;
};

/* The writer wakes every WAKE_NS, or when the ring is half full: not once
 * a record, which would cost the timing loop a context switch a request. */
#define WAKE_NS (5 * 1000 * 1000)
/* ... and runs niced, so that the timing loop preempts it at once. */
#define WRITER_NICE 10

static void *writer(void *arg) {
  struct lb_logq *q = arg;
  struct lb_request_record batch[64];
  /* per-thread on Linux; failing leaves it at the process's nice */
  (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WRITER_NICE);
  pthread_mutex_lock(&q->mu);
  for (;;) {
    while (q->len == 0 && !q->closing) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      ts.tv_nsec += WAKE_NS;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&q->not_empty, &q->mu, &ts);
    }
    if (q->len == 0 && q->closing)
      break;
    size_t n = 0;
    while (q->len > 0 && n < sizeof(batch) / sizeof(batch[0])) {
      batch[n++] = q->ring[q->head];
      q->head = (q->head + 1) % q->cap;
      q->len--;
    }
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->mu);
    size_t put = fwrite(batch, sizeof(batch[0]), n, q->spill);
    pthread_mutex_lock(&q->mu);
    q->spilled += (long)put;
    q->errors += (long)(n - put);
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

int lb_logq_new(FILE *f, size_t capacity, struct lb_logq **out) {
  struct lb_logq *q = calloc(1, sizeof(*q));
  if (!q)
    return -ENOMEM;
  q->f = f;
  q->cap = capacity ? capacity : 1;
  q->ring = malloc(q->cap * sizeof(*q->ring));
  q->spill = tmpfile();
  if (q->ring) /* touched now: the ring (capacity records) is resident from
                  the start, not grown into over the first `capacity`
                  requests, so a long run's memory is flat after start-up */
    memset(q->ring, 0, q->cap * sizeof(*q->ring));
  if (!q->ring || !q->spill) {
    int e = q->ring ? errno : ENOMEM;
    if (q->spill)
      fclose(q->spill);
    free(q->ring);
    free(q);
    return -(e ? e : EIO);
  }
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->not_empty, &ca);
  pthread_condattr_destroy(&ca);
  pthread_cond_init(&q->not_full, NULL);
  int rc = pthread_create(&q->thread, NULL, writer, q);
  if (rc) {
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    fclose(q->spill);
    free(q->ring);
    free(q);
    return -rc;
  }
  *out = q;
  return 0;
}

void lb_logq_push(struct lb_logq *q, const struct lb_request_record *rec) {
  pthread_mutex_lock(&q->mu);
  while (q->len == q->cap)
    pthread_cond_wait(&q->not_full, &q->mu);
  q->ring[(q->head + q->len) % q->cap] = *rec;
  q->len++;
  if (q->len == q->cap / 2 + 1)
    pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
}

long lb_logq_close(struct lb_logq *q) {
  if (!q)
    return 0;
  pthread_mutex_lock(&q->mu);
  q->closing = true;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
  pthread_join(q->thread, NULL);
  long errors = q->errors;
  /* The run is over: format the spilled records, in order. */
  struct lb_request_record batch[64];
  long left = q->spilled;
  if (fflush(q->spill) != 0 || fseek(q->spill, 0, SEEK_SET) != 0) {
    errors += left;
    left = 0;
  }
  while (left > 0) {
    size_t want = left < 64 ? (size_t)left : 64;
    size_t got = fread(batch, sizeof(batch[0]), want, q->spill);
    for (size_t i = 0; i < got; i++)
      errors += lb_reqlog_write(q->f, &batch[i]) < 0;
    left -= (long)got;
    if (got < want) { /* the spill file lost records: count them */
      errors += left;
      break;
    }
  }
  fclose(q->spill);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->not_empty);
  pthread_cond_destroy(&q->not_full);
  free(q->ring);
  free(q);
  return errors;
}
