/* fuzz_fleet_file: a fleet file read (through a memfd, as the loader takes
 * a path), then checked against a small scenario and written back. */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fleet_file.h"
#include "fuzz.h"

static int memfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (memfd < 0 && (memfd = memfd_create("fuzz_fleet", 0)) < 0)
    return 0;
  if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
    return 0;
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
  struct lb_fleet_file ff;
  char err[512];
  if (lb_fleet_file_load(path, &ff, err, sizeof(err)) == 0) {
    struct lb_scenario sc;
    lb_scenario_defaults(&sc);
    sc.servers = 2;
    sc.clients = 2;
    sc.subset_size = 2;
    FILE *null = fopen("/dev/null", "w");
    for (size_t i = 0; i < ff.n; i++) {
      lb_fleet_spec_check(&ff.fleets[i], &sc, err, sizeof(err));
      if (null)
        lb_fleet_spec_write(&ff.fleets[i], null);
    }
    if (null)
      fclose(null);
    lb_fleet_file_close(&ff);
  }
  return 0;
}
