#include "harness_opts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"
#if __has_include("harness_netem.h")
#include "harness_netem.h"
#define LB_HARNESS_HAS_NETNS 1
#endif

void lb_harness_opts_defaults(struct lb_harness_opts *o) {
  memset(o, 0, sizeof(*o));
  snprintf(o->out_dir, sizeof(o->out_dir), "out");
  o->progress = true;
  o->start_delay_s = 0.5;
}

/* Applies one --set FIELD=VALUE; the error names the option. */
static int apply_set(struct lb_scenario *sc, const char *path, const char *set, char *err,
                     size_t errlen) {
  char field[128], why[1024];
  const char *eq = strchr(set, '=');
  if (!eq || eq == set || (size_t)(eq - set) >= sizeof(field)) {
    snprintf(err, errlen, "%s: --set '%s': expected FIELD=VALUE", path, set);
    return -EINVAL;
  }
  memcpy(field, set, (size_t)(eq - set));
  field[eq - set] = '\0';
  int rc = lb_scenario_set(sc, field, eq + 1, why, sizeof(why));
  if (rc < 0)
    snprintf(err, errlen, "%s: --set '%s': %s", path, set, why);
  return rc;
}

static int scenario_load(const char *path, int runs, char *const *sets, int nsets,
                         bool every_request, struct lb_scenario *sc, char *err, size_t errlen) {
  char text[16];
  int rc;
  lb_scenario_defaults(sc);
  if ((rc = lb_scenario_load(path, sc, err, errlen)) < 0)
    return rc;
  for (int i = 0; i < nsets; i++)
    if ((rc = apply_set(sc, path, sets[i], err, errlen)) < 0)
      return rc;
  if (runs > 0) {
    snprintf(text, sizeof(text), "%d", runs);
    if ((rc = lb_scenario_set(sc, "runs", text, err, errlen)) < 0)
      return rc;
  }
  if (every_request && (rc = lb_scenario_set(sc, "data_frequency", "1", err, errlen)) < 0)
    return rc;
  if ((rc = lb_scenario_finish(sc, err, errlen)) < 0)
    return rc;
  /* A bad picker fails here, before any process starts. */
  struct lb_picker_spec *spec = NULL;
  char perr[512];
  if (lb_picker_spec_parse(sc->picker, &spec, perr, sizeof(perr)) < 0) {
    char origin[LB_PICKER_EXPR_MAX + LB_SCENARIO_PATH_MAX + 32];
    lb_scenario_picker_origin(sc, origin, sizeof(origin));
    snprintf(err, errlen, "%s: field 'picker': %s", origin, perr);
    return -EINVAL;
  }
  lb_picker_spec_free(spec);
  return 0;
}

int lb_harness_scenario_load(const char *path, int runs, bool every_request, struct lb_scenario *sc,
                             char *err, size_t errlen) {
  return scenario_load(path, runs, NULL, 0, every_request, sc, err, errlen);
}

int lb_harness_scenario_load_opts(const char *path, const struct lb_harness_opts *o,
                                  bool every_request, struct lb_scenario *sc, char *err,
                                  size_t errlen) {
  int rc = scenario_load(path, o->runs, o->sets, o->nsets, every_request, sc, err, errlen);
  if (rc == 0 && sc->delay == LB_DELAY_NETEM && o->fallback_inproc && o->netem_missing)
    sc->delay = LB_DELAY_INPROC;
  return rc;
}

int lb_harness_delay_check(struct lb_harness_opts *o, struct lb_scenario *sc, char *warn,
                           size_t warnlen, char *err, size_t errlen) {
  if (warnlen)
    warn[0] = '\0';
  if (sc->delay != LB_DELAY_NETEM)
    return 0;
  if (!o->netns) {
    snprintf(err, errlen,
             "%s: field 'delay': netem puts the delay on the links of a network-namespace "
             "fleet: run it with --hosts netns (as root), or use delay: inproc",
             sc->path[0] ? sc->path : sc->name);
    return -EINVAL;
  }
#ifdef LB_HARNESS_HAS_NETNS
  static int probed; /* 0 not yet, 1 netem works, -1 it does not */
  static char why[512];
  if (!probed) {
    int rc = lb_netem_probe(why, sizeof(why));
    if (rc < 0)
      snprintf(why, sizeof(why), "netem: cannot probe for netem: %s; use delay: inproc",
               strerror(-rc));
    probed = rc == 1 ? 1 : -1;
  }
  if (probed == 1)
    return 0;
#else
  const char *why = "netem: not available in this build; use delay: inproc";
#endif
  if (!o->fallback_inproc) {
    snprintf(err, errlen, "%s", why);
    return -ENOTSUP;
  }
  o->netem_missing = true;
  sc->delay = LB_DELAY_INPROC;
  /* The probe's line without its advice, which the fallback follows. */
  char what[512];
  snprintf(what, sizeof(what), "%s", why);
  char *advice = strstr(what, "; use delay: inproc");
  if (advice)
    *advice = '\0';
  snprintf(warn, warnlen, "warning: %s: %s; running with delay: inproc (--fallback-inproc)",
           sc->name, what);
  return 0;
}
