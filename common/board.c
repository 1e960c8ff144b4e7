/* board: POSIX shm, one seqlock slot per server. The payload is
 * copied word by word with relaxed atomics between the sequence loads and
 * stores (fences on either side), so a torn read is detected and retried
 * and no access is a data race. */
#include "board.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOARD_MAGIC 0x6c62626f61726431ULL /* "lbboard1" */

struct payload {
  struct lb_server_report report;
  double utilization_mean; /* NAN: none */
};

#define PAYLOAD_WORDS ((sizeof(struct payload) + 7) / 8)

struct slot {
  _Atomic uint64_t seq; /* odd while writing; 0 never written */
  _Atomic uint64_t words[PAYLOAD_WORDS];
};

struct header {
  _Atomic uint64_t magic;
  _Atomic uint64_t nservers;
  uint64_t pad[6];
};

struct lb_board {
  struct header *hdr;
  struct slot *slots;
  size_t size;
  int nservers;
};

static int shm_name(const char *name, char *out, size_t cap) {
  const char *base = name[0] == '/' ? name + 1 : name;
  if (!*base || strchr(base, '/') || strlen(base) + 2 > cap || strlen(base) > LB_BOARD_NAME_MAX)
    return -EINVAL;
  snprintf(out, cap, "/%s", base);
  return 0;
}

int lb_board_open(const char *name, int nservers, bool create, struct lb_board **out) {
  int rc = 0, fd = -1;
  char path[LB_BOARD_NAME_MAX + 2];
  struct lb_board *b = NULL;
  void *map = MAP_FAILED;
  struct stat st;
  *out = NULL;
  if (nservers < 1 || shm_name(name, path, sizeof(path)) < 0)
    return -EINVAL;
  size_t size = sizeof(struct header) + (size_t)nservers * sizeof(struct slot);
  fd = shm_open(path, O_RDWR | (create ? O_CREAT : 0), 0600);
  if (fd < 0)
    return -errno;
  if (fstat(fd, &st) < 0) {
    rc = -errno;
    goto out;
  }
  if (st.st_size == 0 && create) {
    if (ftruncate(fd, (off_t)size) < 0) {
      rc = -errno;
      goto out;
    }
  } else if ((size_t)st.st_size != size) {
    rc = st.st_size == 0 ? -ENODATA : -EINVAL;
    goto out;
  }
  map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    rc = -errno;
    goto out;
  }
  b = calloc(1, sizeof(*b));
  if (!b) {
    rc = -ENOMEM;
    goto out;
  }
  b->hdr = map;
  b->slots = (struct slot *)((char *)map + sizeof(struct header));
  b->size = size;
  b->nservers = nservers;
  /* Every opener writes the same header: idempotent. */
  uint64_t expect = 0;
  atomic_store(&b->hdr->nservers, (uint64_t)nservers);
  if (!atomic_compare_exchange_strong(&b->hdr->magic, &expect, BOARD_MAGIC) &&
      expect != BOARD_MAGIC) {
    rc = -EINVAL;
    goto out;
  }
  *out = b;
  b = NULL;
  map = MAP_FAILED;
out:
  free(b);
  if (map != MAP_FAILED)
    munmap(map, size);
  close(fd);
  return rc;
}

int lb_board_write(struct lb_board *b, int index, const struct lb_server_report *report,
                   double utilization_mean_or_nan) {
  if (index < 0 || index >= b->nservers)
    return -EINVAL;
  uint64_t words[PAYLOAD_WORDS] = {0};
  struct payload pl;
  memset(&pl, 0, sizeof(pl));
  pl.report = *report;
  pl.utilization_mean = utilization_mean_or_nan;
  memcpy(words, &pl, sizeof(pl));
  struct slot *s = &b->slots[index];
  uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
  if (seq & 1) /* a writer died mid-write; start clean */
    seq++;
  atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  for (size_t i = 0; i < PAYLOAD_WORDS; i++)
    atomic_store_explicit(&s->words[i], words[i], memory_order_relaxed);
  atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
  return 0;
}

static int read_slot(struct lb_board *b, int index, struct payload *out) {
  if (index < 0 || index >= b->nservers)
    return -EINVAL;
  struct slot *s = &b->slots[index];
  uint64_t words[PAYLOAD_WORDS];
  for (int attempt = 0; attempt < 1000000; attempt++) {
    if (attempt >= 100) /* a busy writer: let it finish */
      sched_yield();
    uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
    if (s1 == 0)
      return -ENODATA;
    if (s1 & 1)
      continue;
    for (size_t i = 0; i < PAYLOAD_WORDS; i++)
      words[i] = atomic_load_explicit(&s->words[i], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    uint64_t s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
    if (s1 == s2) {
      memcpy(out, words, sizeof(*out));
      return 0;
    }
  }
  return -EAGAIN; /* a writer stuck mid-write */
}

int lb_board_read(struct lb_board *b, int index, struct lb_server_report *out) {
  struct payload pl;
  int rc = read_slot(b, index, &pl);
  if (rc == 0)
    *out = pl.report;
  return rc;
}

int lb_board_fleet_mean_utilization(struct lb_board *b, double *out) {
  double sum = 0;
  int n = 0;
  for (int i = 0; i < b->nservers; i++) {
    struct payload pl;
    if (read_slot(b, i, &pl) == 0 && !isnan(pl.utilization_mean)) {
      sum += pl.utilization_mean;
      n++;
    }
  }
  if (n == 0)
    return -ENODATA;
  *out = sum / n;
  return 0;
}

int lb_board_servers(const struct lb_board *b) {
  return b->nservers;
}

void lb_board_close(struct lb_board *b) {
  if (!b)
    return;
  munmap(b->hdr, b->size);
  free(b);
}

int lb_board_unlink(const char *name) {
  char path[LB_BOARD_NAME_MAX + 2];
  if (shm_name(name, path, sizeof(path)) < 0)
    return -EINVAL;
  return shm_unlink(path) < 0 ? -errno : 0;
}
