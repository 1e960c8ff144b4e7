/* expr: picker expressions. A small recursive-descent parser:
 *
 *   picker := NAME [ '(' [ arg { ',' arg } ] ')' ]
 *   arg    := [ NAME '=' ] value       (positional arguments come first)
 *   value  := picker | cost | number | true | false | NAME (an enum)
 *   cost   := SOURCE '.' METRIC [ '.' AGG | '(' AGG ',' AGG ')' ]
 *
 * Which kind of value an argument takes comes from the picker's argument
 * table (pickers/picker_impl.h), so errors can say what would be valid. */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "pickers/picker_impl.h"

#define MAX_DEPTH 16

struct parser {
  const char *src;
  size_t pos;
  char *err;
  size_t errlen;
  bool failed;
};

/* "column N: message" then the expression and a caret under column N. */
static int fail(struct parser *p, size_t at, const char *fmt, ...) {
  if (p->failed)
    return -EINVAL;
  p->failed = true;
  if (!p->err || p->errlen == 0)
    return -EINVAL;
  size_t off = 0;
  int n = snprintf(p->err, p->errlen, "column %zu: ", at + 1);
  if (n > 0)
    off = (size_t)n < p->errlen ? (size_t)n : p->errlen - 1;
  va_list ap;
  va_start(ap, fmt);
  n = vsnprintf(p->err + off, p->errlen - off, fmt, ap);
  va_end(ap);
  if (n > 0)
    off += (size_t)n < p->errlen - off ? (size_t)n : p->errlen - off - 1;
  n = snprintf(p->err + off, p->errlen - off, "\n  %s\n  %*s^", p->src, (int)at, "");
  (void)n;
  return -EINVAL;
}

static void skip_ws(struct parser *p) {
  while (isspace((unsigned char)p->src[p->pos]))
    p->pos++;
}

static bool is_ident_start(char c) {
  return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident_char(char c) {
  return isalnum((unsigned char)c) || c == '_';
}

/* Reads a NAME at pos; len 0 when there is none. */
static size_t ident_len(const struct parser *p) {
  size_t i = p->pos;
  if (!is_ident_start(p->src[i]))
    return 0;
  while (is_ident_char(p->src[i]))
    i++;
  return i - p->pos;
}

static bool word_is(const char *s, size_t len, const char *word) {
  return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* What the parser found at pos, for messages. */
static const char *found(const struct parser *p, char *buf, size_t len) {
  char c = p->src[p->pos];
  if (c == '\0')
    return "the end of the expression";
  size_t n = ident_len(p);
  if (n == 0)
    n = 1;
  snprintf(buf, len, "'%.*s'", (int)(n > 32 ? 32 : n), p->src + p->pos);
  return buf;
}

static void list_pickers(char *buf, size_t len) {
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; lb__picker_types[i] && off < len; i++) {
    int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", lb__picker_types[i]->name);
    if (n < 0)
      break;
    off += (size_t)n;
  }
}

static void list_args(const struct lb_picker_type *t, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = '\0';
  for (int i = 0; i < t->nargs && off < len; i++) {
    int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", t->args[i].name);
    if (n < 0)
      break;
    off += (size_t)n;
  }
}

static int parse_picker(struct parser *p, int depth, struct lb_picker_spec **out);

static int parse_agg(struct parser *p, enum lb_agg *out) {
  skip_ws(p);
  size_t n = ident_len(p);
  for (int a = 0; a < LB_AGG_COUNT && n; a++) {
    if (word_is(p->src + p->pos, n, lb_agg_name((enum lb_agg)a))) {
      *out = (enum lb_agg)a;
      p->pos += n;
      return 0;
    }
  }
  char f[48];
  return fail(p, p->pos, "expected an aggregate (latest, mean or ewma), got %s",
              found(p, f, sizeof(f)));
}

static void list_metrics(enum lb_cost_source s, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = '\0';
  for (int m = 0; m < LB_COST_METRIC_COUNT && off < len; m++) {
    if (!lb_cost_metric_valid(s, (enum lb_cost_metric)m))
      continue;
    int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
                     lb_cost_metric_name((enum lb_cost_metric)m));
    if (n < 0)
      break;
    off += (size_t)n;
  }
}

static int parse_cost(struct parser *p, struct lb_cost *c) {
  char f[48], list[256];
  skip_ws(p);
  size_t n = ident_len(p);
  int src = -1;
  for (int s = 0; s < 3 && n; s++) {
    if (word_is(p->src + p->pos, n, lb_cost_source_name((enum lb_cost_source)s)))
      src = s;
  }
  if (src < 0) {
    if (n && lb__picker_type_find(p->src + p->pos, n))
      return fail(p, p->pos,
                  "expected a cost here, got the picker %s; a cost is client.*, server.* or "
                  "oracle.* (e.g. server.rif)",
                  found(p, f, sizeof(f)));
    return fail(p, p->pos, "expected a cost (client.*, server.* or oracle.*), got %s",
                found(p, f, sizeof(f)));
  }
  memset(c, 0, sizeof(*c));
  c->source = (enum lb_cost_source)src;
  p->pos += n;
  list_metrics(c->source, list, sizeof(list));
  if (p->src[p->pos] != '.')
    return fail(p, p->pos, "expected '.' and a metric after '%s' (one of: %s)",
                lb_cost_source_name(c->source), list);
  p->pos++;
  n = ident_len(p);
  int metric = -1;
  for (int m = 0; m < LB_COST_METRIC_COUNT && n; m++) {
    if (word_is(p->src + p->pos, n, lb_cost_metric_name((enum lb_cost_metric)m)))
      metric = m;
  }
  if (metric < 0 || !lb_cost_metric_valid(c->source, (enum lb_cost_metric)metric))
    return fail(p, p->pos, "unknown %s metric %s; expected one of: %s",
                lb_cost_source_name(c->source), found(p, f, sizeof(f)), list);
  c->metric = (enum lb_cost_metric)metric;
  p->pos += n;
  int rc = 0;
  switch (lb_cost_metric_aggs(c->metric)) {
  case 1:
    if (p->src[p->pos] != '.')
      return fail(p, p->pos, "expected '.latest', '.mean' or '.ewma' after '%s'",
                  lb_cost_metric_name(c->metric));
    p->pos++;
    rc = parse_agg(p, &c->agg);
    break;
  case 2:
    /* server.capacity alone means (mean, mean), as every seed scenario. */
    c->agg = c->agg2 = LB_AGG_MEAN;
    if (p->src[p->pos] != '(')
      break;
    p->pos++;
    if ((rc = parse_agg(p, &c->agg)) < 0)
      break;
    skip_ws(p);
    if (p->src[p->pos] != ',')
      return fail(p, p->pos, "expected ',' and the utilization aggregate, got %s",
                  found(p, f, sizeof(f)));
    p->pos++;
    if ((rc = parse_agg(p, &c->agg2)) < 0)
      break;
    skip_ws(p);
    if (p->src[p->pos] != ')')
      return fail(p, p->pos, "expected ')' after the two aggregates, got %s",
                  found(p, f, sizeof(f)));
    p->pos++;
    break;
  default:
    if (p->src[p->pos] == '.' || p->src[p->pos] == '(')
      return fail(p, p->pos, "'%s' takes no aggregate", lb_cost_metric_name(c->metric));
    break;
  }
  return rc;
}

static int parse_number(struct parser *p, const struct lb_arg_def *d, double *out) {
  char f[48];
  const char *s = p->src + p->pos;
  char *end = NULL;
  errno = 0;
  double v = (s[0] == '-' || s[0] == '+' || s[0] == '.' || isdigit((unsigned char)s[0]))
                 ? strtod(s, &end)
                 : 0;
  bool is_int = d->kind == LB_ARG_INT;
  if (!end || end == s || errno || is_ident_char(*end) || !isfinite(v))
    return fail(p, p->pos, "expected %s for '%s', got %s", is_int ? "an integer" : "a number",
                d->name, found(p, f, sizeof(f)));
  if ((is_int && v != floor(v)) || v < d->min || v > d->max)
    return fail(p, p->pos, "'%s' must be %s from %g to %g, got %.*s", d->name,
                is_int ? "an integer" : "a number", d->min, d->max, (int)(end - s), s);
  p->pos += (size_t)(end - s);
  *out = v;
  return 0;
}

static int parse_value(struct parser *p, const struct lb_arg_def *d, struct lb_arg_value *v,
                       int depth) {
  char f[48];
  skip_ws(p);
  size_t n;
  v->set = true;
  v->none = false;
  switch (d->kind) {
  case LB_ARG_PICKER:
    return parse_picker(p, depth + 1, &v->picker);
  case LB_ARG_COST:
    return parse_cost(p, &v->cost);
  case LB_ARG_INT:
  case LB_ARG_NUM:
    n = ident_len(p);
    if (d->none_default && n &&
        (word_is(p->src + p->pos, n, "None") || word_is(p->src + p->pos, n, "none"))) {
      v->none = true; /* the seed's explicit None */
      p->pos += n;
      return 0;
    }
    return parse_number(p, d, &v->num);
  case LB_ARG_BOOL:
    n = ident_len(p);
    if (n && (word_is(p->src + p->pos, n, "true") || word_is(p->src + p->pos, n, "false") ||
              word_is(p->src + p->pos, n, "True") || word_is(p->src + p->pos, n, "False"))) {
      v->num = word_is(p->src + p->pos, n, "true") || word_is(p->src + p->pos, n, "True");
      p->pos += n;
      return 0;
    }
    return fail(p, p->pos, "expected true or false for '%s', got %s", d->name,
                found(p, f, sizeof(f)));
  case LB_ARG_ENUM:
    n = ident_len(p);
    for (int i = 0; d->choices[i] && n; i++) {
      if (word_is(p->src + p->pos, n, d->choices[i])) {
        v->num = i;
        p->pos += n;
        return 0;
      }
    }
    {
      char list[256];
      size_t off = 0;
      list[0] = '\0';
      for (int i = 0; d->choices[i]; i++)
        off +=
            (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", d->choices[i]);
      return fail(p, p->pos, "expected one of %s for '%s', got %s", list, d->name,
                  found(p, f, sizeof(f)));
    }
  }
  return -EINVAL;
}

static int default_cost(const char *text, struct lb_cost *c) {
  struct parser q = {.src = text};
  return parse_cost(&q, c);
}

/* Unset arguments get their defaults. */
static int fill_defaults(struct lb_picker_spec *spec) {
  const struct lb_picker_type *t = spec->type;
  for (int i = 0; i < t->nargs; i++) {
    const struct lb_arg_def *d = &t->args[i];
    struct lb_arg_value *v = &spec->args[i];
    if (v->set)
      continue;
    if (d->none_default) {
      v->none = true;
    } else if (d->kind == LB_ARG_COST) {
      if (default_cost(d->def_cost, &v->cost) < 0)
        return -EINVAL;
    } else {
      v->num = d->def;
    }
  }
  return 0;
}

static int parse_args(struct parser *p, struct lb_picker_spec *spec, int depth) {
  const struct lb_picker_type *t = spec->type;
  char f[48], list[256];
  int positional = 0;
  bool keywords = false;
  skip_ws(p);
  if (p->src[p->pos] == ')') {
    p->pos++;
    return 0;
  }
  for (;;) {
    skip_ws(p);
    size_t at = p->pos;
    size_t n = ident_len(p);
    size_t after = p->pos + n;
    while (isspace((unsigned char)p->src[after]))
      after++;
    int slot;
    if (n && p->src[after] == '=') {
      for (slot = 0; slot < t->nargs; slot++) {
        if (word_is(p->src + at, n, t->args[slot].name))
          break;
      }
      if (slot == t->nargs) {
        list_args(t, list, sizeof(list));
        if (t->nargs == 0)
          return fail(p, at, "%s takes no arguments", t->name);
        return fail(p, at, "unknown argument '%.*s' for %s(); expected one of: %s", (int)n,
                    p->src + at, t->name, list);
      }
      if (spec->args[slot].set)
        return fail(p, at, "argument '%s' of %s() given twice", t->args[slot].name, t->name);
      keywords = true;
      p->pos = after + 1;
    } else {
      if (keywords)
        return fail(p, at, "positional argument after keyword arguments in %s()", t->name);
      if (positional >= t->nargs) {
        list_args(t, list, sizeof(list));
        if (t->nargs == 0)
          return fail(p, at, "%s takes no arguments", t->name);
        return fail(p, at, "too many arguments for %s(); it takes %d: %s", t->name, t->nargs, list);
      }
      slot = positional++;
    }
    int rc = parse_value(p, &t->args[slot], &spec->args[slot], depth);
    if (rc < 0)
      return rc;
    skip_ws(p);
    if (p->src[p->pos] == ',') {
      p->pos++;
      skip_ws(p);
      if (p->src[p->pos] == ')' || p->src[p->pos] == '\0') {
        list_args(t, list, sizeof(list));
        return fail(p, p->pos, "expected an argument of %s() after ',' (one of: %s), got %s",
                    t->name, list, found(p, f, sizeof(f)));
      }
      continue;
    }
    if (p->src[p->pos] == ')') {
      p->pos++;
      return 0;
    }
    return fail(p, p->pos, "expected ',' or ')' in the arguments of %s(), got %s", t->name,
                found(p, f, sizeof(f)));
  }
}

static int parse_picker(struct parser *p, int depth, struct lb_picker_spec **out) {
  char f[48], list[512];
  *out = NULL;
  skip_ws(p);
  if (depth > MAX_DEPTH)
    return fail(p, p->pos, "pickers nested more than %d deep", MAX_DEPTH);
  size_t at = p->pos;
  size_t n = ident_len(p);
  const struct lb_picker_type *t = n ? lb__picker_type_find(p->src + at, n) : NULL;
  if (!t) {
    list_pickers(list, sizeof(list));
    if (n && p->src[at + n] == '.')
      return fail(p, at, "expected a picker here, got a cost; a picker is one of: %s", list);
    if (!n)
      return fail(p, at, "expected a picker, got %s; a picker is one of: %s",
                  found(p, f, sizeof(f)), list);
    return fail(p, at, "unknown picker '%.*s'; expected one of: %s", (int)n, p->src + at, list);
  }
  struct lb_picker_spec *spec = calloc(1, sizeof(*spec));
  if (!spec)
    return -ENOMEM;
  spec->type = t;
  p->pos += n;
  skip_ws(p);
  int rc = 0;
  if (p->src[p->pos] == '(') {
    p->pos++;
    rc = parse_args(p, spec, depth);
  }
  for (int i = 0; rc == 0 && i < t->nargs; i++) {
    if (t->args[i].required && !spec->args[i].set)
      rc = fail(p, p->pos, "%s() needs its argument '%s' (%s)", t->name, t->args[i].name,
                t->args[i].help);
  }
  if (rc == 0)
    rc = fill_defaults(spec);
  if (rc < 0) {
    lb_picker_spec_free(spec);
    return rc;
  }
  *out = spec;
  return 0;
}

int lb_picker_spec_parse(const char *expr, struct lb_picker_spec **out, char *err, size_t errlen) {
  struct parser p = {.src = expr ? expr : "", .err = err, .errlen = errlen};
  char f[48];
  *out = NULL;
  if (err && errlen)
    err[0] = '\0';
  struct lb_picker_spec *spec = NULL;
  int rc = parse_picker(&p, 0, &spec);
  if (rc < 0)
    return rc;
  skip_ws(&p);
  if (p.src[p.pos] != '\0') {
    rc = fail(&p, p.pos, "unexpected %s after the picker; expected the end of the expression",
              found(&p, f, sizeof(f)));
    lb_picker_spec_free(spec);
    return rc;
  }
  *out = spec;
  return 0;
}

void lb_picker_spec_free(struct lb_picker_spec *spec) {
  if (!spec)
    return;
  for (int i = 0; i < LB_PICKER_MAX_ARGS; i++)
    lb_picker_spec_free(spec->args[i].picker);
  free(spec);
}

bool lb_picker_spec_needs_oracle(const struct lb_picker_spec *spec) {
  if (!spec)
    return false;
  for (int i = 0; i < spec->type->nargs; i++) {
    const struct lb_arg_value *v = &spec->args[i];
    if (spec->type->args[i].kind == LB_ARG_COST && v->cost.source == LB_COST_ORACLE)
      return true;
    if (v->picker && lb_picker_spec_needs_oracle(v->picker))
      return true;
  }
  return false;
}

bool lb_picker_spec_needs_fleet_mean(const struct lb_picker_spec *spec) {
  if (!spec)
    return false;
  for (int i = 0; i < spec->type->nargs; i++) {
    const struct lb_arg_value *v = &spec->args[i];
    if (spec->type->args[i].kind == LB_ARG_COST && v->cost.source != LB_COST_CLIENT &&
        v->cost.metric == LB_COST_PID)
      return true;
    if (v->picker && lb_picker_spec_needs_fleet_mean(v->picker))
      return true;
  }
  return false;
}

bool lb_picker_spec_probes(const struct lb_picker_spec *spec) {
  if (!spec)
    return false;
  if (spec->type->probes)
    return true;
  for (int i = 0; i < spec->type->nargs; i++) {
    if (spec->args[i].picker && lb_picker_spec_probes(spec->args[i].picker))
      return true;
  }
  return false;
}

/* Shortest %g that reads back as the same double. */
static void format_number(double v, char *buf, size_t len) {
  if (v == floor(v) && fabs(v) < 1e15) {
    snprintf(buf, len, "%.0f", v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

struct out {
  char *buf;
  size_t len, off;
};

static void emit(struct out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = o->off < o->len ? o->len - o->off : 0;
  int n = vsnprintf(room ? o->buf + o->off : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    o->off += (size_t)n;
}

static bool is_default(const struct lb_arg_def *d, const struct lb_arg_value *v) {
  if (d->none_default)
    return v->none;
  if (d->kind == LB_ARG_COST) {
    struct lb_cost c;
    return d->def_cost && default_cost(d->def_cost, &c) == 0 && lb_cost_equal(&c, &v->cost);
  }
  if (d->kind == LB_ARG_PICKER)
    return false;
  return v->num == d->def;
}

static void format_value(struct out *o, const struct lb_arg_def *d, const struct lb_arg_value *v);

static void format_spec(struct out *o, const struct lb_picker_spec *spec) {
  const struct lb_picker_type *t = spec->type;
  emit(o, "%s", t->name);
  bool open = false;
  for (int i = 0; i < t->nargs; i++) {
    const struct lb_arg_def *d = &t->args[i];
    const struct lb_arg_value *v = &spec->args[i];
    if (!d->required && is_default(d, v))
      continue;
    emit(o, open ? ", " : "(");
    open = true;
    if (!d->required)
      emit(o, "%s=", d->name);
    format_value(o, d, v);
  }
  if (open)
    emit(o, ")");
}

static void format_value(struct out *o, const struct lb_arg_def *d, const struct lb_arg_value *v) {
  char num[40], cost[96];
  switch (d->kind) {
  case LB_ARG_PICKER:
    format_spec(o, v->picker);
    break;
  case LB_ARG_COST:
    lb_cost_format(&v->cost, cost, sizeof(cost));
    emit(o, "%s", cost);
    break;
  case LB_ARG_INT:
  case LB_ARG_NUM:
    format_number(v->num, num, sizeof(num));
    emit(o, "%s", num);
    break;
  case LB_ARG_BOOL:
    emit(o, "%s", v->num != 0 ? "true" : "false");
    break;
  case LB_ARG_ENUM:
    emit(o, "%s", d->choices[(int)v->num]);
    break;
  }
}

int lb_picker_spec_format(const struct lb_picker_spec *spec, char *buf, size_t len) {
  if (!spec)
    return -EINVAL;
  struct out o = {.buf = buf, .len = len};
  format_spec(&o, spec);
  if (o.off >= len)
    return -ENOSPC;
  return (int)o.off;
}

static void signature(const struct lb_picker_type *t, char *buf, size_t len) {
  struct out o = {.buf = buf, .len = len};
  char num[40];
  emit(&o, "%s", t->name);
  for (int i = 0; i < t->nargs; i++) {
    const struct lb_arg_def *d = &t->args[i];
    emit(&o, i ? ", " : "(");
    if (d->required) {
      emit(&o, "%s", d->name);
    } else if (d->none_default) {
      emit(&o, "%s=None", d->name);
    } else if (d->kind == LB_ARG_COST) {
      emit(&o, "%s=%s", d->name, d->def_cost);
    } else if (d->kind == LB_ARG_BOOL) {
      emit(&o, "%s=%s", d->name, d->def != 0 ? "true" : "false");
    } else if (d->kind == LB_ARG_ENUM) {
      emit(&o, "%s=", d->name);
      for (int c = 0; d->choices[c]; c++)
        emit(&o, "%s%s", c ? "|" : "", d->choices[c]);
    } else {
      format_number(d->def, num, sizeof(num));
      emit(&o, "%s=%s", d->name, num);
    }
  }
  if (t->nargs)
    emit(&o, ")");
}

/* "  NAME  help", help aligned where the name allows. */
static void print_line(FILE *f, const char *name, const char *help) {
  int pad = 44 - (int)strlen(name);
  fprintf(f, "  %s%*s  %s\n", name, pad > 0 ? pad : 0, "", help);
}

void lb_picker_registry_print(FILE *f) {
  char sig[256], name[96];
  fprintf(f, "pickers:\n");
  for (size_t i = 0; lb__picker_types[i]; i++) {
    signature(lb__picker_types[i], sig, sizeof(sig));
    print_line(f, sig, lb__picker_types[i]->help);
  }
  fprintf(f, "costs (server.X reads the latest response's report, oracle.X the server's "
             "current one):\n");
  for (int s = 0; s < 2; s++) {
    for (int m = 0; m < LB_COST_METRIC_COUNT; m++) {
      if (!lb_cost_metric_valid((enum lb_cost_source)s, (enum lb_cost_metric)m))
        continue;
      const char *src = lb_cost_source_name((enum lb_cost_source)s);
      const char *met = lb_cost_metric_name((enum lb_cost_metric)m);
      switch (lb_cost_metric_aggs((enum lb_cost_metric)m)) {
      case 1:
        snprintf(name, sizeof(name), "%s.%s.{latest,mean,ewma}", src, met);
        break;
      case 2:
        snprintf(name, sizeof(name), "%s.%s(RATE_AGG, UTIL_AGG)", src, met);
        break;
      default:
        snprintf(name, sizeof(name), "%s.%s", src, met);
        break;
      }
      print_line(f, name, lb_cost_metric_help((enum lb_cost_source)s, (enum lb_cost_metric)m));
    }
  }
  print_line(f, "oracle.X",
             "any server.X, read from the server's current state (ServerQuantumTunneledCost)");
}
