/* first: the seed's PickFirst - always the first channel of the list. */
#include <stdlib.h>

#include "picker_impl.h"

static int first_pick(struct lb_picker *self, const struct lb_pick_env *env,
                      struct lb_channel *const *chs, int n, struct lb_pick *pick,
                      struct lb_channel **out) {
  (void)self, (void)env, (void)n, (void)pick;
  *out = chs[0];
  return LB_PICK_DONE;
}

static void first_free(struct lb_picker *self) {
  free(self);
}

static const struct lb_picker_ops first_ops = {first_pick, NULL, first_free};

static int first_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  (void)spec;
  return lb__picker_alloc(sizeof(struct lb_picker), &first_ops, nchannels, out);
}

const struct lb_picker_type lb__picker_first = {
    .name = "first",
    .help = "the first channel, always (PickFirst)",
    .create = first_create,
};
