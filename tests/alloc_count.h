/* alloc_count: counts malloc/calloc/realloc calls of a test binary by
 * interposing glibc's, so a test can check that the model does not
 * allocate on its hot paths. Include from exactly one file of a test.
 * Under ASan/TSan (which interpose the allocator themselves) it is off:
 * ALLOC_COUNTING is then undefined and such checks should skip(). */
#ifndef LB_TEST_ALLOC_COUNT_H
#define LB_TEST_ALLOC_COUNT_H

#include <stddef.h>
#include <stdlib.h>

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && defined(__GLIBC__)
#define ALLOC_COUNTING 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static long allocations;
void *malloc(size_t n) {
  allocations++;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
  allocations++;
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
  allocations++;
  return __libc_realloc(p, n);
}
#endif

#endif
