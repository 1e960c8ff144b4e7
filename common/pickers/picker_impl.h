/* picker_impl: what picker implementations and the expression parser share.
 *
 * A picker type (one per file in common/pickers/) declares its arguments;
 * the parser (expr.c) fills a spec with one value per argument, defaults
 * included, and lb_picker_new() hands the spec to the type's create().
 * Instances are a struct lb_picker (the vtable) embedded first in the
 * picker's own struct. */
#ifndef LB_PICKER_IMPL_H
#define LB_PICKER_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "cost.h"
#include "picker.h"

enum lb_arg_kind { LB_ARG_PICKER, LB_ARG_COST, LB_ARG_INT, LB_ARG_NUM, LB_ARG_BOOL, LB_ARG_ENUM };

#define LB_PICKER_MAX_ARGS 6

struct lb_arg_def {
  const char *name;
  enum lb_arg_kind kind;
  bool required;
  /* Unset optional arguments: none_default marks the seed's None (the
   * value stays unset); otherwise def (INT/NUM/BOOL, ENUM index) or
   * def_cost (COST, in expression syntax) is the default. */
  bool none_default;
  double def;
  const char *def_cost;
  double min, max;            /* INT and NUM ranges, inclusive */
  const char *const *choices; /* ENUM names, NULL-terminated */
  const char *help;
};

struct lb_arg_value {
  bool set;   /* written in the expression */
  bool none;  /* the seed's None (unset none_default argument) */
  double num; /* INT, NUM, BOOL (0/1), ENUM (index) */
  struct lb_cost cost;
  struct lb_picker_spec *picker;
};

struct lb_picker_spec {
  const struct lb_picker_type *type;
  struct lb_arg_value args[LB_PICKER_MAX_ARGS];
};

struct lb_picker_ops {
  int (*pick)(struct lb_picker *self, const struct lb_pick_env *env, struct lb_channel *const *chs,
              int n, struct lb_pick *pick, struct lb_channel **out);
  /* Only for pickers that answer LB_PICK_WAIT. */
  int (*resume)(struct lb_picker *self, const struct lb_pick_env *env, struct lb_pick *pick,
                struct lb_channel **out);
  void (*free)(struct lb_picker *self);
};

struct lb_picker {
  const struct lb_picker_ops *ops;
  int nchannels;   /* the client's subset size: channel indices are below it */
  int max_watched; /* most probes one pick watches: set by create() */
};

struct lb_picker_type {
  const char *name;
  const char *help; /* one line */
  const struct lb_arg_def *args;
  int nargs;
  bool probes; /* sends probes itself */
  int (*create)(const struct lb_picker_spec *spec, int nchannels, struct lb_picker **out);
};

/* Every picker type, NULL-terminated, in registry order (picker.c). */
extern const struct lb_picker_type *const lb__picker_types[];
const struct lb_picker_type *lb__picker_type_find(const char *name, size_t len);

extern const struct lb_picker_type lb__picker_first, lb__picker_random, lb__picker_round_robin,
    lb__picker_subset, lb__picker_fastest_probe, lb__picker_with_probes, lb__picker_least_cost,
    lb__picker_weighted, lb__picker_hcl, lb__picker_client_pid, lb__picker_prequal,
    lb__picker_orca_wrr, lb__picker_least_request, lb__picker_peak_ewma,
    lb__picker_prequal_sync, lb__picker_slow_start;

/* Shared helpers (picker.c). */

/* Allocates a zeroed instance of size bytes with ops and nchannels set. */
int lb__picker_alloc(size_t size, const struct lb_picker_ops *ops, int nchannels,
                     struct lb_picker **out);
/* Checks a pick's channel list: 1..LB_PICK_MAX_CHANNELS channels, each
 * index within [0, nchannels). */
int lb__picker_check(const struct lb_picker *self, struct lb_channel *const *chs, int n);
/* random.choice(channels) */
struct lb_channel *lb__picker_random_choice(const struct lb_pick_env *env,
                                            struct lb_channel *const *chs, int n);
/* Sends a fire-and-forget probe. */
int lb__picker_send_probe(const struct lb_pick_env *env, struct lb_channel *ch,
                          struct lb_probe *watch);
/* Fire-and-forget probes on k distinct random channels of the list
 * (random.sample(channels, k)); idx is scratch of n entries. */
int lb__picker_probe_sample(const struct lb_pick_env *env, struct lb_channel *const *chs, int n,
                            long k, size_t *idx);
/* The seed's WithProbes sending: min(RandomRound(probes), channels with no
 * rif) probes to channels sampled from all n (idx: n slots of scratch).
 * The probing() picker and pick_plan.h's send-time split share it. */
int lb__with_probes_send(const struct lb_pick_env *env, struct lb_channel *const *chs, int n,
                         double probes, size_t *idx);
/* Unwatches every watched probe of the pick that is not done; empties it. */
void lb__pick_release(struct lb_pick *pick, const struct lb_pick_env *env);

/* The seed keys some picker state by channel *name* ("Client 3 -> Server
 * 7"), which two channels of one client share when its subset drew the same
 * server twice. server_keys maps a channel index to one slot per distinct
 * server, as that name would. */
struct lb__server_keys {
  int nchannels;
  int nslots;
  int *slot_of_index; /* -1 until seen */
  int *server_of_slot;
};
int lb__server_keys_init(struct lb__server_keys *k, int nchannels);
void lb__server_keys_close(struct lb__server_keys *k);
int lb__server_keys_slot(struct lb__server_keys *k, const struct lb_channel *ch);

/* The seed's Weighted.average / Hcl.average: mean of the truthy values
 * (None and 0 dropped); false when none. */
bool lb__average_truthy(const double *v, const bool *has, int n, double *out);

/* np.percentile(values, q), method 'linear' (numpy's _lerp included), of
 * the union of two sorted arrays (na + nb > 0). */
double lb__hcl_percentile(const double *a, size_t na, const double *b, size_t nb, double q);

#endif
