/* pick_plan: the scenario's picker for a driver, with the seed's WithProbes
 * split off to send time (pick_plan.h says why). */
#include "pick_plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "pickers/picker_impl.h"

#define SEED_PROBES_PER_REQUEST 2.0 /* WithProbes.probes_per_request */

static const char *skip_space(const char *s) {
  while (isspace((unsigned char)*s))
    s++;
  return s;
}

/* Copies [b, e) trimmed into out. */
static bool copy_trimmed(const char *b, const char *e, char *out, size_t outlen) {
  while (b < e && isspace((unsigned char)*b))
    b++;
  while (e > b && isspace((unsigned char)e[-1]))
    e--;
  size_t n = (size_t)(e - b);
  if (n == 0 || n >= outlen)
    return false;
  memcpy(out, b, n);
  out[n] = '\0';
  return true;
}

static bool parse_number(const char *text, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno != 0 || end == text || *skip_space(end) != '\0' || !(v >= 0))
    return false;
  *out = v;
  return true;
}

/* One argument [b, e): the inner picker (first), or probes. */
static bool take_arg(const char *b, const char *e, int pos, char *inner, size_t innerlen,
                     double *probes) {
  char arg[LB_PICKER_EXPR_MAX];
  if (!copy_trimmed(b, e, arg, sizeof(arg)))
    return false;
  /* A '=' outside parentheses makes it a named argument. */
  int depth = 0;
  char *eq = NULL;
  for (char *p = arg; *p && eq == NULL; p++) {
    if (*p == '(')
      depth++;
    else if (*p == ')')
      depth--;
    else if (*p == '=' && depth == 0)
      eq = p;
  }
  if (eq == NULL) {
    if (pos == 0)
      return copy_trimmed(arg, arg + strlen(arg), inner, innerlen);
    return pos == 1 && parse_number(arg, probes);
  }
  *eq = '\0';
  char name[64];
  if (!copy_trimmed(arg, eq, name, sizeof(name)))
    return false;
  if (strcmp(name, "probes") != 0 && strcmp(name, "probes_per_request") != 0)
    return false; /* something lbsim does not know: leave it to the picker */
  return parse_number(eq + 1, probes);
}

bool lb_pick_plan_split_probing(const char *expr, char *inner, size_t innerlen, double *probes) {
  const char *p = skip_space(expr);
  static const char kw[] = "probing";
  if (strncmp(p, kw, sizeof(kw) - 1) != 0)
    return false;
  p = skip_space(p + sizeof(kw) - 1);
  if (*p != '(')
    return false;
  p++;
  double n = SEED_PROBES_PER_REQUEST;
  bool have_inner = false;
  const char *arg = p;
  int depth = 0, pos = 0;
  for (; *p; p++) {
    if (*p == '(') {
      depth++;
    } else if (*p == ')' && depth > 0) {
      depth--;
    } else if ((*p == ',' && depth == 0) || (*p == ')' && depth == 0)) {
      if (!take_arg(arg, p, pos, inner, innerlen, &n))
        return false;
      have_inner |= pos == 0;
      pos++;
      arg = p + 1;
      if (*p == ')')
        break;
    }
  }
  if (*p != ')' || *skip_space(p + 1) != '\0' || !have_inner)
    return false;
  *probes = n;
  return true;
}

int lb_pick_plan_init(struct lb_pick_plan *p, const char *expr, bool split, const char *origin,
                  char *err, size_t errlen) {
  char perr[512];
  memset(p, 0, sizeof(*p));
  if (strlen(expr) >= sizeof(p->expr)) {
    snprintf(err, errlen, "%s: picker expression longer than %zu characters", origin,
             sizeof(p->expr) - 1);
    return -EINVAL;
  }
  snprintf(p->expr, sizeof(p->expr), "%s", expr);
  int rc = lb_picker_spec_parse(expr, &p->spec, perr, sizeof(perr));
  if (rc < 0) {
    snprintf(err, errlen, "%s: picker: %s", origin, perr);
    p->spec = NULL;
    return rc;
  }
  char inner[LB_PICKER_EXPR_MAX];
  double probes = 0;
  if (split && lb_picker_spec_probes(p->spec) &&
      lb_pick_plan_split_probing(expr, inner, sizeof(inner), &probes)) {
    struct lb_picker_spec *spec = NULL;
    if (lb_picker_spec_parse(inner, &spec, perr, sizeof(perr)) == 0) {
      lb_picker_spec_free(p->spec);
      p->spec = spec;
      p->send_time_probes = true;
      p->probes_per_request = probes;
    }
  }
  return 0;
}

void lb_pick_plan_close(struct lb_pick_plan *p) {
  lb_picker_spec_free(p->spec);
  p->spec = NULL;
}

int lb_pick_plan_send_time_probes(const struct lb_pick_plan *p, const struct lb_pick_env *env,
                                  struct lb_channel *const *chs, int n) {
  if (!p->send_time_probes)
    return 0;
  size_t idx[LB_PICK_MAX_CHANNELS];
  return lb__with_probes_send(env, chs, n, p->probes_per_request, idx);
}
