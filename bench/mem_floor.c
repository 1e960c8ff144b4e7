/* mem_floor: what one cache miss costs on this machine, at the sizes of
 * lbsim's working sets (bench/sim_scale.sh; bench/README.md).
 *
 *   mem_floor [MiB...]     (default: 0.25 1 4 16 64 256 512)
 *
 * For each size, an array of 64-byte lines on 2 MiB-aligned memory
 * (MADV_HUGEPAGE, as lbsim's slabs) is linked into one random cycle, then:
 * - dependent: one chain followed line to line (each load waits for the
 *   one before): the latency of a random read at that size;
 * - 8 chains: eight independent cycles followed side by side, as a loop
 *   over independent requests can overlap its misses: the cost per read
 *   when the core keeps several misses in flight.
 * Prints ns per read (the median of 5 passes, CLOCK_THREAD_CPUTIME_ID).
 * Measures and prints; asserts nothing. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct line {
  struct line *next;
  char pad[56];
};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t splitmix(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* nchains random cycles over lines[], each of n / nchains lines. */
static void link_cycles(struct line *lines, size_t n, int nchains, struct line **heads) {
  size_t *perm = malloc(n * sizeof(*perm));
  if (perm == NULL) {
    fprintf(stderr, "mem_floor: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < n; i++)
    perm[i] = i;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = splitmix() % (i + 1), t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  size_t per = n / (size_t)nchains;
  for (int c = 0; c < nchains; c++) {
    size_t *p = perm + (size_t)c * per;
    for (size_t i = 0; i < per; i++)
      lines[p[i]].next = &lines[p[(i + 1) % per]];
    heads[c] = &lines[p[0]];
  }
  free(perm);
}

static double pass(struct line **heads, int nchains, size_t steps) {
  struct line *h[8];
  memcpy(h, heads, (size_t)nchains * sizeof(*h));
  double t0 = now_ns();
  if (nchains == 1) {
    struct line *p = h[0];
    for (size_t i = 0; i < steps; i++)
      p = p->next;
    h[0] = p;
  } else {
    for (size_t i = 0; i < steps / 8; i++)
      for (int c = 0; c < 8; c++)
        h[c] = h[c]->next;
  }
  double t = now_ns() - t0;
  __asm__ volatile("" : : "r"(h[0]), "r"(h[nchains - 1]) : "memory");
  return t / (double)steps;
}

int main(int argc, char **argv) {
  static const double dflt[] = {0.25, 1, 4, 16, 64, 256, 512};
  int nsizes = argc > 1 ? argc - 1 : (int)(sizeof(dflt) / sizeof(dflt[0]));
  if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    printf("usage: mem_floor [MiB...]\nns per random 64-byte read: one dependent chain, "
           "and 8 chains side by side (default sizes 0.25 1 4 16 64 256 512 MiB)\n");
    return 0;
  }
  printf("%10s %14s %14s\n", "MiB", "dependent_ns", "8_chains_ns");
  for (int k = 0; k < nsizes; k++) {
    double mib = argc > 1 ? strtod(argv[k + 1], NULL) : dflt[k];
    size_t bytes = (size_t)(mib * 1048576.0) / 64 * 64;
    if (bytes < 64 * 16) {
      fprintf(stderr, "mem_floor: size '%s' too small (at least 1 KiB)\n", argv[k + 1]);
      return 1;
    }
    size_t alloc = (bytes + (2u << 20) - 1) / (2u << 20) * (2u << 20);
    struct line *lines = aligned_alloc(2u << 20, alloc);
    if (lines == NULL) {
      fprintf(stderr, "mem_floor: out of memory for %.2f MiB\n", mib);
      return 1;
    }
    (void)madvise(lines, alloc, MADV_HUGEPAGE);
    memset(lines, 0, alloc);
    size_t n = bytes / 64, steps = 4u << 20;
    double res[2];
    for (int mode = 0; mode < 2; mode++) {
      int nchains = mode == 0 ? 1 : 8;
      struct line *heads[8];
      link_cycles(lines, n, nchains, heads);
      (void)pass(heads, nchains, n < steps ? n : steps); /* warm */
      double t[5];
      for (int i = 0; i < 5; i++)
        t[i] = pass(heads, nchains, steps);
      qsort(t, 5, sizeof(t[0]), cmp_double);
      res[mode] = t[2];
    }
    printf("%10.2f %14.2f %14.2f\n", mib, res[0], res[1]);
    free(lines);
  }
  return 0;
}
