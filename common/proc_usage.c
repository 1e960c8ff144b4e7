#include "proc_usage.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

int lb_proc_usage_get(struct lb_proc_usage *out) {
  struct rusage ru;
  memset(out, 0, sizeof(*out));
  if (getrusage(RUSAGE_SELF, &ru) < 0)
    return -errno;
  out->cpu_seconds = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  out->voluntary_switches = ru.ru_nvcsw;
  out->involuntary_switches = ru.ru_nivcsw;
  return 0;
}
