#include "harness_events.h"

#include <errno.h>
#include <string.h>

int lb_harness_events_open(struct lb_harness_events *ev, const char *path, FILE *echo,
                           const char *prefix, int64_t start_realtime_ns, int64_t tick_ns) {
  memset(ev, 0, sizeof(*ev));
  ev->echo = echo;
  ev->start_ns = start_realtime_ns;
  ev->tick_ns = tick_ns > 0 ? tick_ns : 1;
  snprintf(ev->prefix, sizeof(ev->prefix), "%s", prefix ? prefix : "");
  if (!path)
    return 0;
  ev->f = fopen(path, "we"); /* close-on-exec: not the daemons' to inherit */
  if (!ev->f)
    return -errno;
  fprintf(ev->f, "tick,seconds,daemon,event,detail\n");
  fflush(ev->f);
  return 0;
}

/* CSV-safe copy: no commas, quotes or line breaks. */
static void field(char *out, size_t len, const char *in) {
  size_t k = 0;
  for (; in && *in && k + 1 < len; in++)
    out[k++] = (*in == ',' || *in == '"' || *in == '\n' || *in == '\r') ? ';' : *in;
  out[k] = '\0';
}

void lb_harness_events_note(struct lb_harness_events *ev, int64_t now_ns, const char *daemon,
                            const char *event, const char *detail, bool unplanned) {
  double since = (double)(now_ns - ev->start_ns);
  double tick = since / (double)ev->tick_ns;
  char who[64], what[32], why[256];
  field(who, sizeof(who), daemon);
  field(what, sizeof(what), event);
  field(why, sizeof(why), detail);
  if (unplanned) {
    if (ev->unplanned++ == 0)
      snprintf(ev->first, sizeof(ev->first), "%s %s at tick %.0f (%.*s)", who, what, tick,
               (int)strcspn(why, ";"), why);
  }
  if (ev->f) {
    fprintf(ev->f, "%.2f,%.6f,%s,%s,%s\n", tick, since / 1e9, who, what, why);
    fflush(ev->f);
  }
  if (ev->echo)
    fprintf(ev->echo, "lbharness: %s: tick %.1f: %s %s (%s)%s\n", ev->prefix, tick, who, what, why,
            unplanned ? ", unplanned: the run goes on without it" : "");
}

void lb_harness_events_close(struct lb_harness_events *ev) {
  if (ev->f)
    fclose(ev->f);
  ev->f = NULL;
}
