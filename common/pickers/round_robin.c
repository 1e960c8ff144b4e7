/* round_robin: the seed's RoundRobin. Its counter lives in a class-level
 * dict keyed by client name, starting at 0 and shared by every RoundRobin()
 * object: one counter per logical client, as here (one instance per
 * client). Seed quirk not reproduced: being class-level, the seed's counters
 * also persist from one run to the next within one Python process; each
 * run here starts at 0. The counter indexes the list it is given,
 * channels[i % len(channels)]. */
#include <stdlib.h>

#include "picker_impl.h"

struct round_robin {
  struct lb_picker base;
  unsigned long next;
};

static int rr_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)env, (void)pick;
  struct round_robin *rr = (struct round_robin *)self;
  *out = chs[rr->next % (unsigned long)n];
  rr->next++;
  return LB_PICK_DONE;
}

static void rr_free(struct lb_picker *self) {
  free(self);
}

static const struct lb_picker_ops rr_ops = {rr_pick, NULL, rr_free};

static int rr_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  (void)spec;
  return lb__picker_alloc(sizeof(struct round_robin), &rr_ops, nchannels, out);
}

const struct lb_picker_type lb__picker_round_robin = {
    .name = "round_robin",
    .help = "channels in turn, one counter per client starting at 0 (RoundRobin)",
    .create = rr_create,
};
