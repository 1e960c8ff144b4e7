/* random: the seed's PickRandom - random.choice(channels). */
#include <stdlib.h>

#include "picker_impl.h"

static int random_pick(struct lb_picker *self, const struct lb_pick_env *env,
                       struct lb_channel *const *chs, int n, struct lb_pick *pick,
                       struct lb_channel **out) {
  (void)self, (void)pick;
  *out = lb__picker_random_choice(env, chs, n);
  return LB_PICK_DONE;
}

static void random_free(struct lb_picker *self) {
  free(self);
}

static const struct lb_picker_ops random_ops = {random_pick, NULL, random_free};

static int random_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  (void)spec;
  return lb__picker_alloc(sizeof(struct lb_picker), &random_ops, nchannels, out);
}

const struct lb_picker_type lb__picker_random = {
    .name = "random",
    .help = "a uniformly random channel (PickRandom)",
    .create = random_create,
};
