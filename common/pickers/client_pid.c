/* client_pid: the seed's PidUtilizationWeighted. Each channel keeps a PID
 * controller (kp=1, ki=1/30, kd=3) and a weight. Per pick: the latest
 * utilization reported on each channel (keyed by channel *name*, i.e. by
 * server: a later channel to the same server overwrites); none at all ->
 * random.choice (and no controller moves). Otherwise target = mean + 10 if
 * mean < 80 else mean; every channel's controller is updated with its
 * utilization (the mean where it has none) and its weight moves by the
 * adjustment; weights are shifted so the least is 0.1 and drawn by
 * random.choices. */
#include <errno.h>
#include <stdlib.h>

#include "picker_impl.h"
#include "pid.h"
#include "rng.h"

struct client_pid {
  struct lb_picker base;
  struct lb__server_keys keys;
  struct lb_pid *pid;                    /* per channel index */
  double *pid_weight;                    /* per channel index */
  bool *started;                         /* per channel index: controller created */
  double *util;                          /* per slot */
  unsigned long *util_gen, *counted_gen; /* per slot */
  unsigned long gen;
  int slot[LB_PICK_MAX_CHANNELS];
  double w[LB_PICK_MAX_CHANNELS];
};

static int cp_pick(struct lb_picker *self, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  (void)pick;
  struct client_pid *cp = (struct client_pid *)self;
  /* Generation marks stand for the seed's per-pick dict: a slot has a
   * utilization this pick when util_gen == gen, was counted when
   * counted_gen == gen. */
  unsigned long gen = ++cp->gen;
  for (int i = 0; i < n; i++) {
    const struct lb_channel *ch = chs[i];
    int s = lb__server_keys_slot(&cp->keys, ch);
    if (s < 0)
      return -EINVAL;
    cp->slot[i] = s;
    if (!cp->started[ch->index]) {
      lb_pid_init_client(&cp->pid[ch->index]);
      cp->pid_weight[ch->index] = 0.0;
      cp->started[ch->index] = true;
    }
    if (ch->has_report && ch->report.utilization.valid) {
      cp->util[s] = ch->report.utilization.latest;
      cp->util_gen[s] = gen;
    }
  }
  double sum = 0;
  int count = 0;
  for (int i = 0; i < n; i++) {
    int s = cp->slot[i];
    if (cp->util_gen[s] == gen && cp->counted_gen[s] != gen) {
      cp->counted_gen[s] = gen;
      sum += cp->util[s];
      count++;
    }
  }
  if (count == 0) {
    *out = lb__picker_random_choice(env, chs, n);
    return LB_PICK_DONE;
  }
  double average = sum / count;
  double target = average < 80 ? average + 10 : average;
  double min_w = 0;
  for (int i = 0; i < n; i++) {
    const struct lb_channel *ch = chs[i];
    int s = cp->slot[i];
    double u = cp->util_gen[s] == gen ? cp->util[s] : average;
    double adjustment = lb_pid_update(&cp->pid[ch->index], u, target);
    cp->pid_weight[ch->index] += adjustment;
    cp->w[i] = cp->pid_weight[ch->index];
    if (i == 0 || cp->w[i] < min_w)
      min_w = cp->w[i];
  }
  for (int i = 0; i < n; i++)
    cp->w[i] = cp->w[i] - min_w + 0.1;
  *out = chs[lb_rng_weighted(env->rng, cp->w, (size_t)n)];
  return LB_PICK_DONE;
}

static void cp_free(struct lb_picker *self) {
  struct client_pid *cp = (struct client_pid *)self;
  lb__server_keys_close(&cp->keys);
  free(cp->pid);
  free(cp->pid_weight);
  free(cp->started);
  free(cp->util);
  free(cp->util_gen);
  free(cp->counted_gen);
  free(cp);
}

static const struct lb_picker_ops cp_ops = {cp_pick, NULL, cp_free};

static int cp_create(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  (void)spec;
  struct lb_picker *p = NULL;
  int rc = lb__picker_alloc(sizeof(struct client_pid), &cp_ops, nchannels, &p);
  if (rc < 0)
    return rc;
  struct client_pid *cp = (struct client_pid *)p;
  size_t nc = (size_t)nchannels;
  rc = lb__server_keys_init(&cp->keys, nchannels);
  cp->pid = calloc(nc, sizeof(*cp->pid));
  cp->pid_weight = calloc(nc, sizeof(double));
  cp->started = calloc(nc, sizeof(bool));
  cp->util = calloc(nc, sizeof(double));
  cp->util_gen = calloc(nc, sizeof(unsigned long));
  cp->counted_gen = calloc(nc, sizeof(unsigned long));
  if (rc < 0 || !cp->pid || !cp->pid_weight || !cp->started || !cp->util || !cp->util_gen ||
      !cp->counted_gen) {
    cp_free(p);
    return -ENOMEM;
  }
  *out = p;
  return 0;
}

const struct lb_picker_type lb__picker_client_pid = {
    .name = "client_pid",
    .help = "random, weighted by a client-side PID on reported utilization "
            "(PidUtilizationWeighted)",
    .create = cp_create,
};
