/* fuzz: every target defines LLVMFuzzerTestOneInput. Built with
 * -DLB_FUZZ=ON (clang) it links libFuzzer; otherwise replay_main.c gives it
 * a main that runs each file of a corpus through it once (ctest). */
#ifndef LB_FUZZ_H
#define LB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a NUL-terminated string (malloc'd; NULL when out of memory). */
char *lb_fuzz_cstr(const uint8_t *data, size_t size);

#endif
