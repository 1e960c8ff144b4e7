/* subset: the seed's Subset(picker, subset_size=2) - random.choices(channels,
 * k=size), i.e. `size` channels drawn WITH replacement (the same channel may
 * come twice), then the inner picker on that list. */
#include <stdlib.h>

#include "picker_impl.h"
#include "rng.h"

struct subset {
  struct lb_picker base;
  struct lb_picker *inner;
  int size;
  size_t idx[LB_PICK_MAX_CHANNELS];
  struct lb_channel *list[LB_PICK_MAX_CHANNELS];
};

static int subset_pick(struct lb_picker *self, const struct lb_pick_env *env,
                       struct lb_channel *const *chs, int n, struct lb_pick *pick,
                       struct lb_channel **out) {
  struct subset *s = (struct subset *)self;
  lb_rng_choices(env->rng, (size_t)n, (size_t)s->size, s->idx);
  for (int i = 0; i < s->size; i++)
    s->list[i] = chs[s->idx[i]];
  /* The list is scratch: a waiting inner picker keeps what it needs in the
   * pick, never the list. */
  return s->inner->ops->pick(s->inner, env, s->list, s->size, pick, out);
}

static void subset_free(struct lb_picker *self) {
  struct subset *s = (struct subset *)self;
  lb_picker_free(s->inner);
  free(s);
}

static const struct lb_picker_ops subset_ops = {subset_pick, NULL, subset_free};

static int subset_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct subset), &subset_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct subset *s = (struct subset *)p;
  s->size = (int)spec->args[1].num;
  rc = lb_picker_new(spec->args[0].picker, nchannels, &s->inner);
  if (rc < 0) {
    free(s);
    return rc;
  }
  /* The inner picker is given `size` channels (drawn with replacement: more
   * than the client has, perhaps), and a waiting one watches one probe per
   * channel it is given (fastest_probe), so `size` bounds it, not the
   * client's channels its own bound was made for. */
  int most = s->size < LB_PICK_MAX_PROBES ? s->size : LB_PICK_MAX_PROBES;
  p->max_watched = s->inner->max_watched > 0 ? most : 0;
  *out = p;
  return 0;
}

static const struct lb_arg_def subset_args[] = {
    {.name = "picker",
     .kind = LB_ARG_PICKER,
     .required = true,
     .help = "picker to run on the drawn channels"},
    {.name = "size",
     .kind = LB_ARG_INT,
     .def = 2,
     .min = 1,
     .max = LB_PICK_MAX_CHANNELS,
     .help = "channels drawn, with replacement"},
};

const struct lb_picker_type lb__picker_subset = {
    .name = "subset",
    .help = "draw `size` channels with replacement, then run `picker` on them (Subset)",
    .args = subset_args,
    .nargs = 2,
    .create = subset_create,
};
