/* picker: vtable dispatch, the registry of picker types, and helpers the
 * pickers share. */
#include "picker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pickers/picker_impl.h"
#include "rng.h"

const struct lb_picker_type *const lb__picker_types[] = {
    &lb__picker_first,         &lb__picker_random,    &lb__picker_round_robin,
    &lb__picker_least_cost,    &lb__picker_weighted,  &lb__picker_client_pid,
    &lb__picker_hcl,           &lb__picker_subset,    &lb__picker_fastest_probe,
    &lb__picker_with_probes,   &lb__picker_prequal,   &lb__picker_orca_wrr,
    &lb__picker_least_request, &lb__picker_peak_ewma, &lb__picker_prequal_sync,
    &lb__picker_slow_start,    NULL,
};

const struct lb_picker_type *lb__picker_type_find(const char *name, size_t len) {
  for (size_t i = 0; lb__picker_types[i]; i++) {
    const char *t = lb__picker_types[i]->name;
    if (strlen(t) == len && memcmp(t, name, len) == 0)
      return lb__picker_types[i];
  }
  return NULL;
}

int lb_picker_new(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out) {
  *out = NULL;
  if (!spec || !spec->type || nchannels < 1 || nchannels > LB_PICK_MAX_CHANNELS)
    return -EINVAL;
  return spec->type->create(spec, nchannels, out);
}

void lb_picker_free(struct lb_picker *p) {
  if (p)
    p->ops->free(p);
}

int lb_picker_pick(struct lb_picker *p, const struct lb_pick_env *env,
                   struct lb_channel *const *chs, int n, struct lb_pick *pick,
                   struct lb_channel **out) {
  *out = NULL;
  int rc = lb__picker_check(p, chs, n);
  if (rc < 0)
    return rc;
  return p->ops->pick(p, env, chs, n, pick, out);
}

int lb_picker_resume(struct lb_picker *p, const struct lb_pick_env *env, struct lb_pick *pick,
                     struct lb_channel **out) {
  (void)p;
  *out = NULL;
  struct lb_picker *leaf = (struct lb_picker *)pick->waiting;
  if (!leaf || !leaf->ops->resume)
    return -EINVAL;
  return leaf->ops->resume(leaf, env, pick, out);
}

void lb_pick_init(struct lb_pick *pick, struct lb_probe *room, int cap) {
  memset(room, 0, (size_t)cap * sizeof(*room));
  *pick = (struct lb_pick){.cap = cap, .probes = room};
}

int lb_picker_max_watched(const struct lb_picker *p) {
  return p->max_watched;
}

void lb_pick_abandon(struct lb_pick *pick, const struct lb_pick_env *env) {
  lb__pick_release(pick, env);
  pick->waiting = NULL;
}

void lb__pick_release(struct lb_pick *pick, const struct lb_pick_env *env) {
  for (int i = 0; i < pick->nprobes; i++) {
    struct lb_probe *pr = &pick->probes[i];
    if (!pr->done && pr->channel && env->unwatch_probe)
      env->unwatch_probe(env->driver, pr);
  }
  pick->nprobes = 0;
}

int lb__picker_alloc(size_t size, const struct lb_picker_ops *ops, int nchannels,
                     struct lb_picker **out) {
  struct lb_picker *p = calloc(1, size);
  if (!p)
    return -ENOMEM;
  p->ops = ops;
  p->nchannels = nchannels;
  *out = p;
  return 0;
}

int lb__picker_check(const struct lb_picker *self, struct lb_channel *const *chs, int n) {
  if (n < 1 || n > LB_PICK_MAX_CHANNELS || !chs)
    return -EINVAL;
  for (int i = 0; i < n; i++) {
    if (!chs[i] || chs[i]->index < 0 || chs[i]->index >= self->nchannels)
      return -EINVAL;
  }
  return 0;
}

struct lb_channel *lb__picker_random_choice(const struct lb_pick_env *env,
                                            struct lb_channel *const *chs, int n) {
  return chs[lb_rng_below(env->rng, (size_t)n)];
}

int lb__picker_send_probe(const struct lb_pick_env *env, struct lb_channel *ch,
                          struct lb_probe *watch) {
  if (!env->send_probe)
    return -ENOTSUP;
  return env->send_probe(env->driver, ch, watch);
}

int lb__picker_probe_sample(const struct lb_pick_env *env, struct lb_channel *const *chs, int n,
                            long k, size_t *idx) {
  if (k > n)
    k = n;
  if (k <= 0)
    return 0;
  lb_rng_sample(env->rng, (size_t)n, (size_t)k, idx);
  for (long i = 0; i < k; i++) {
    int rc = lb__picker_send_probe(env, chs[idx[i]], NULL);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int lb__server_keys_init(struct lb__server_keys *k, int nchannels) {
  memset(k, 0, sizeof(*k));
  k->slot_of_index = malloc((size_t)nchannels * sizeof(int));
  k->server_of_slot = malloc((size_t)nchannels * sizeof(int));
  if (!k->slot_of_index || !k->server_of_slot) {
    lb__server_keys_close(k);
    return -ENOMEM;
  }
  k->nchannels = nchannels;
  for (int i = 0; i < nchannels; i++)
    k->slot_of_index[i] = -1;
  return 0;
}

void lb__server_keys_close(struct lb__server_keys *k) {
  free(k->slot_of_index);
  free(k->server_of_slot);
  k->slot_of_index = k->server_of_slot = NULL;
}

int lb__server_keys_slot(struct lb__server_keys *k, const struct lb_channel *ch) {
  int s = k->slot_of_index[ch->index];
  if (s >= 0 && k->server_of_slot[s] == ch->server)
    return s;
  for (s = 0; s < k->nslots; s++) {
    if (k->server_of_slot[s] == ch->server)
      break;
  }
  if (s == k->nslots) {
    if (k->nslots == k->nchannels)
      return -1; /* more distinct servers than channels: cannot happen */
    k->server_of_slot[k->nslots++] = ch->server;
  }
  k->slot_of_index[ch->index] = s;
  return s;
}

bool lb__average_truthy(const double *v, const bool *has, int n, double *out) {
  double sum = 0;
  int count = 0;
  for (int i = 0; i < n; i++) {
    if (has[i] && v[i] != 0) {
      sum += v[i];
      count++;
    }
  }
  if (count == 0)
    return false;
  *out = sum / count;
  return true;
}
