/* orca_text: struct lb_server_report <-> ORCA endpoint-load-metrics TEXT. */
#include "orca_text.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "wire_check.h"

#define NAMED "named_metrics."

enum kind {
  K_REAL,   /* finite, 0 <= v <= LB_WIRE_MAX_REAL */
  K_SIGNED, /* finite, |v| <= LB_WIRE_MAX_REAL */
  K_BOOL,   /* 0 or 1 */
  K_U32,    /* whole, 0 <= v <= max */
  K_STAT,   /* a stat's number (K_REAL) that makes the stat valid when given */
  K_IGNORE, /* a standard ORCA field we read and drop (K_REAL) */
};

struct field {
  const char *name;
  enum kind kind;
  size_t off;   /* in struct lb_server_report; unused for K_IGNORE */
  size_t valid; /* K_STAT: offset of the stat's valid flag */
  double max;   /* K_U32 */
  bool format;  /* written by lb_orca_text_format */
};

#define OFF(m) offsetof(struct lb_server_report, m)
#define STAT(s)                                                                                    \
  {NAMED #s ".valid", K_BOOL, OFF(s.valid), 0, 0, true},                                           \
      {NAMED #s ".latest", K_STAT, OFF(s.latest), OFF(s.valid), 0, true},                          \
      {NAMED #s ".mean", K_STAT, OFF(s.mean), OFF(s.valid), 0, true}, {                            \
    NAMED #s ".ewma", K_STAT, OFF(s.ewma), OFF(s.valid), 0, true                                   \
  }

static const struct field fields[] = {
    {"cpu_utilization", K_REAL, OFF(orca_utilization), 0, 0, true},
    {"rps_fractional", K_REAL, OFF(orca_qps), 0, 0, true},
    {"eps", K_REAL, OFF(orca_eps), 0, 0, true},
    {"application_utilization", K_IGNORE, 0, 0, 0, false},
    {"mem_utilization", K_IGNORE, 0, 0, 0, false},
    STAT(utilization),
    STAT(queries_per_tick),
    STAT(requests_in_flight),
    STAT(queued_requests),
    STAT(latency),
    {NAMED "has_expected_latency", K_BOOL, OFF(has_expected_latency), 0, 0, true},
    {NAMED "expected_latency", K_REAL, OFF(expected_latency), 0, 0, true},
    {NAMED "pid_weight", K_SIGNED, OFF(pid_weight), 0, 0, true}, /* signed PID adjustments */
    {NAMED "server", K_U32, OFF(server), 0, UINT32_MAX, true},
    {NAMED "threads", K_U32, OFF(threads), 0, LB_WIRE_MAX_THREADS, true},
    {NAMED "resets", K_U32, OFF(resets), 0, UINT32_MAX, true},
    {NAMED "has_probe_answer", K_BOOL, OFF(has_probe_answer), 0, 0, true},
    {NAMED "probe_rif", K_REAL, OFF(probe_rif), 0, 0, true},
    {NAMED "probe_latency", K_SIGNED, OFF(probe_latency), 0, 0, true}, /* < 0: no estimate */
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static double *dbl(struct lb_server_report *r, size_t off) {
  return (double *)((char *)r + off);
}
static bool *flag(struct lb_server_report *r, size_t off) {
  return (bool *)((char *)r + off);
}
static uint32_t *u32(struct lb_server_report *r, size_t off) {
  return (uint32_t *)((char *)r + off);
}

/* The fewest significant digits (of 15, 16, 17) that read back to v;
 * whole numbers (flags, counts: most of a report) without the read-back. */
static int format_number(char *buf, size_t cap, double v) {
  if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v)))
    return snprintf(buf, cap, "%.0f", v); /* whole: exact, and no read-back */
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(buf, cap, "%.*g", prec, v);
    if (n < 0 || (size_t)n >= cap || strtod(buf, NULL) == v)
      break;
  }
  return n;
}

int lb_orca_text_format(const struct lb_server_report *r, char *buf, size_t cap) {
  struct lb_server_report copy = *r;
  size_t len = 0;
  int n = snprintf(buf, cap, "%s", LB_ORCA_TEXT_PREFIX);
  if (n < 0 || (size_t)n >= cap)
    return -EMSGSIZE;
  len = (size_t)n;
  bool first = true;
  for (size_t i = 0; i < NFIELDS; i++) {
    const struct field *f = &fields[i];
    if (!f->format)
      continue;
    double v = 0;
    switch (f->kind) {
    case K_BOOL:
      v = *flag(&copy, f->off) ? 1 : 0;
      break;
    case K_U32:
      v = *u32(&copy, f->off);
      break;
    default:
      v = *dbl(&copy, f->off);
      break;
    }
    char num[40];
    int m = format_number(num, sizeof(num), v);
    if (m < 0 || (size_t)m >= sizeof(num))
      return -EMSGSIZE;
    n = snprintf(buf + len, cap - len, "%s%s:%s", first ? "" : ", ", f->name, num);
    if (n < 0 || (size_t)n >= cap - len)
      return -EMSGSIZE;
    len += (size_t)n;
    first = false;
  }
  return len > INT_MAX ? -EMSGSIZE : (int)len;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t';
}

/* A plain decimal: digits, sign, point, exponent; no hex, nan or inf. */
static int parse_number(const char *s, size_t len, double *out) {
  char tmp[64];
  if (len == 0 || len >= sizeof(tmp))
    return -EINVAL;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return -EINVAL;
  }
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  char *end = NULL;
  errno = 0;
  double v = strtod(tmp, &end);
  if (end != tmp + len)
    return -EINVAL;
  *out = v; /* overflow gives HUGE_VAL, refused by the range check */
  return 0;
}

static const struct field *find_field(const char *name, size_t len) {
  for (size_t i = 0; i < NFIELDS; i++)
    if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0)
      return &fields[i];
  return NULL;
}

static int check_value(const struct field *f, const char *name, int nlen, double v, char *err,
                       size_t errlen) {
  bool may_be_negative = f && f->kind == K_SIGNED;
  if (lb_wire_check_real(v, may_be_negative) < 0) {
    lb_errf(err, errlen, "%s: %.*s is %g: expected a finite %s of at most %g in size",
            LB_ORCA_HEADER, nlen, name, v, may_be_negative ? "number" : "non-negative number",
            LB_WIRE_MAX_REAL);
    return -ERANGE;
  }
  if (f && f->kind == K_BOOL && v != 0 && v != 1) {
    lb_errf(err, errlen, "%s: %.*s is %g: expected 0 or 1", LB_ORCA_HEADER, nlen, name, v);
    return -ERANGE;
  }
  if (f && f->kind == K_U32 && (v != floor(v) || v > f->max)) {
    lb_errf(err, errlen, "%s: %.*s is %g: expected a whole number of at most %.0f", LB_ORCA_HEADER,
            nlen, name, v, f->max);
    return -ERANGE;
  }
  return 0;
}

static int parse_pair(const char *tok, size_t len, struct lb_server_report *out, bool seen[],
                      bool stat_given[], char *err, size_t errlen) {
  const char *colon = memchr(tok, ':', len);
  if (!colon) {
    lb_errf(err, errlen, "%s: \"%.*s\" is not name:value", LB_ORCA_HEADER, (int)len, tok);
    return -EINVAL;
  }
  const char *name = tok, *val = colon + 1;
  size_t nlen = (size_t)(colon - tok), vlen = len - nlen - 1;
  if (nlen == 0 || vlen == 0) {
    lb_errf(err, errlen, "%s: \"%.*s\" has an empty %s", LB_ORCA_HEADER, (int)len, tok,
            nlen == 0 ? "name" : "value");
    return -EINVAL;
  }
  const struct field *f = find_field(name, nlen);
  bool named = nlen > strlen(NAMED) && memcmp(name, NAMED, strlen(NAMED)) == 0;
  if (!f && !named) {
    lb_errf(err, errlen,
            "%s: unknown metric %.*s (expected cpu_utilization, rps_fractional, "
            "eps, application_utilization, mem_utilization or named_metrics.*)",
            LB_ORCA_HEADER, (int)nlen, name);
    return -EINVAL;
  }
  double v = 0;
  if (parse_number(val, vlen, &v) < 0) {
    lb_errf(err, errlen, "%s: %.*s has value \"%.*s\": expected a decimal number", LB_ORCA_HEADER,
            (int)nlen, name, (int)vlen, val);
    return -EINVAL;
  }
  int rc = check_value(f, name, (int)nlen, v, err, errlen);
  if (rc < 0 || !f)
    return rc; /* a named metric of someone else's: checked, then skipped */
  size_t idx = (size_t)(f - fields);
  if (seen[idx]) {
    lb_errf(err, errlen, "%s contains duplicate metric %s", LB_ORCA_HEADER, f->name);
    return -EINVAL;
  }
  seen[idx] = true;
  switch (f->kind) {
  case K_BOOL:
    *flag(out, f->off) = v != 0;
    break;
  case K_U32:
    *u32(out, f->off) = (uint32_t)v;
    break;
  case K_IGNORE:
    break;
  case K_STAT:
    stat_given[idx] = true;
    /* fall through */
  default:
    *dbl(out, f->off) = v;
    break;
  }
  return 0;
}

int lb_orca_text_parse(const char *value, size_t len, struct lb_server_report *out, char *err,
                       size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (len > LB_ORCA_TEXT_MAX) {
    lb_errf(err, errlen, "%s is %zu bytes: at most %d accepted", LB_ORCA_HEADER, len,
            LB_ORCA_TEXT_MAX);
    return -EMSGSIZE;
  }
  const size_t plen = strlen(LB_ORCA_TEXT_PREFIX);
  if (len < plen || memcmp(value, LB_ORCA_TEXT_PREFIX, plen) != 0) {
    lb_errf(err, errlen, "%s: expected the TEXT form (\"TEXT name:value, ...\"), got \"%.*s\"",
            LB_ORCA_HEADER, (int)(len < 16 ? len : 16), value);
    return -EINVAL;
  }
  bool seen[NFIELDS] = {false}, stat_given[NFIELDS] = {false};
  size_t pos = plen;
  while (pos <= len) {
    const char *comma = memchr(value + pos, ',', len - pos);
    size_t end = comma ? (size_t)(comma - value) : len;
    size_t a = pos, b = end;
    while (a < b && is_space(value[a]))
      a++;
    while (b > a && is_space(value[b - 1]))
      b--;
    int rc = -EINVAL;
    if (a == b)
      lb_errf(err, errlen, "%s: empty metric at byte %zu", LB_ORCA_HEADER, pos);
    else
      rc = parse_pair(value + a, b - a, out, seen, stat_given, err, errlen);
    if (rc < 0) {
      memset(out, 0, sizeof(*out));
      return rc;
    }
    pos = end + 1;
  }
  /* A stat without .valid is valid when any of its numbers was given. */
  for (size_t i = 0; i < NFIELDS; i++) {
    const struct field *f = &fields[i];
    if (f->kind != K_STAT || !stat_given[i])
      continue;
    for (size_t j = 0; j < NFIELDS; j++)
      if (fields[j].kind == K_BOOL && fields[j].off == f->valid && !seen[j])
        *flag(out, f->valid) = true;
  }
  return 0;
}
