/* reqlog: per-request CSV records with the seed's column names. One table
 * of columns drives the writer and the reader. */
#include "reqlog.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "errbuf.h"

/* Exact powers of ten (every one up to 1e22 is a double). */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Writes the decimal digits of u (no sign); returns how many. */
static size_t put_uint(char *out, uint64_t u) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  for (size_t i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

__extension__ typedef unsigned __int128 u128;

/* The "%.Pg" text of v for the least P in 15..17 that reads back as v (what
 * printf and strtod would find), in exact integer arithmetic: 1 with buf
 * set, or 0 to leave it to printf (v outside [1e-4, 1e15), where %g turns
 * to exponents, or an exact tie in the rounding). v = mant * 2^E exactly;
 * the P digits are mant * 10^s / 2^-E rounded to nearest, and they read
 * back as v when they lie within half an ulp of it (ties to the even
 * mantissa, as strtod rounds). */
static int format_fixed(char *buf, size_t len, double v) {
  double a = fabs(v);
  if (!(a >= 1e-4 && a < 1e15))
    return 0;
  int E;
  double f = frexp(a, &E);
  uint64_t mant = (uint64_t)ldexp(f, 53); /* [2^52, 2^53) */
  E -= 53;                                /* -67 ..= -3 here */
  int sh = -E;
  int e = 14; /* 10^e <= a, roughly: the digit count checks it */
  while (e > 0 && a < pow10_exact[e])
    e--;
  if (e == 0 && a < 1.0)
    for (e = -1; e > -4 && a < 1.0 / pow10_exact[-e]; e--) {
    }
  for (int p = 15; p <= 17; p++) {
    int s = p - 1 - e; /* 0 ..= 20 */
    u128 p10 = s < 20 ? (u128)(uint64_t)pow10_exact[s] : (u128)(uint64_t)pow10_exact[19] * 10;
    u128 n = (u128)mant * p10; /* < 2^120 */
    u128 q = n >> sh, rem = n - (q << sh), half = (u128)1 << (sh - 1);
    if (rem == half)
      return 0;
    if (rem > half)
      q++;
    u128 lo = (u128)(uint64_t)pow10_exact[p - 1], hi = lo * 10;
    if (q < lo || q >= hi)
      return 0; /* e was off by one, or the rounding carried */
    u128 x = (q << sh) * 2, y = n * 2, gap = p10;
    bool even = (mant & 1) == 0;
    bool reads_back;
    if (x >= y) {
      reads_back = x - y < gap || (x - y == gap && even);
    } else { /* below v: the gap halves at a power of two */
      u128 d = (y - x) * (mant == (1ULL << 52) ? 2 : 1);
      reads_back = d < gap || (d == gap && even);
    }
    if (!reads_back)
      continue;
    char digits[20], out[40];
    size_t nd = put_uint(digits, (uint64_t)q); /* p digits */
    while (nd > 1 && digits[nd - 1] == '0')
      nd--;
    size_t n_out = 0;
    if (v < 0)
      out[n_out++] = '-';
    if (e >= 0) {
      size_t ip = (size_t)e + 1; /* integer digits */
      if (ip > nd) {
        memset(digits + nd, '0', ip - nd);
        nd = ip;
      }
      memcpy(out + n_out, digits, ip);
      n_out += ip;
      if (nd > ip) {
        out[n_out++] = '.';
        memcpy(out + n_out, digits + ip, nd - ip);
        n_out += nd - ip;
      }
    } else {
      out[n_out++] = '0';
      out[n_out++] = '.';
      for (int z = -1; z > e; z--)
        out[n_out++] = '0';
      memcpy(out + n_out, digits, nd);
      n_out += nd;
    }
    if (len > 0) {
      size_t k = n_out < len - 1 ? n_out : len - 1;
      memcpy(buf, out, k);
      buf[k] = '\0';
    }
    return 1;
  }
  return 0; /* not reached: 17 digits always read back */
}

void lb_reqlog_format_double(char *buf, size_t len, double v) {
  if (isnan(v)) {
    snprintf(buf, len, "nan");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, len, v > 0 ? "inf" : "-inf");
    return;
  }
  if (v == 0) {
    snprintf(buf, len, signbit(v) ? "-0" : "0");
    return;
  }
  if (format_fixed(buf, len, v))
    return;
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (prec == 17 || strtod(buf, NULL) == v)
      return;
  }
}

const char *lb_stage_name(enum lb_stage s) {
  switch (s) {
  case LB_STAGE_WARMING:
    return "WARMING";
  case LB_STAGE_RUNNING:
    return "RUNNING";
  case LB_STAGE_COOLING:
    return "COOLING";
  }
  return "STOPPED";
}

const char *lb_outcome_name(enum lb_outcome o) {
  switch (o) {
  case LB_OUTCOME_COMPLETED:
    return "completed";
  case LB_OUTCOME_FAILED:
    return "failed";
  case LB_OUTCOME_TIMED_OUT:
    return "timed_out";
  }
  return "unknown";
}

enum col_kind {
  C_STAGE,
  C_CLIENT,
  C_SERVER,
  C_PROBE,
  C_TICKS,   /* double; NaN is the seed's None, an empty cell */
  C_BETWEEN, /* completed_on_tick - started_on_tick, written only */
  C_STAT,    /* report stat part; empty when the stat is None */
  C_PID,     /* report pid_weight; empty without a report */
  C_OUTCOME,
  C_NS,
};

struct column {
  const char *name;
  enum col_kind kind;
  size_t offset; /* C_TICKS, C_NS: in the record; C_STAT: of the lb_stat in the report */
  int part;      /* C_STAT: 0 latest, 1 mean, 2 ewma */
};

#define REC(f) offsetof(struct lb_request_record, f)
#define TICKS(f)                                                                                   \
  { #f, C_TICKS, REC(f), 0 }
#define NS(f)                                                                                      \
  { #f, C_NS, REC(f), 0 }
#define STAT(col, f)                                                                               \
  {"server_" col "_latest", C_STAT, offsetof(struct lb_server_report, f), 0},                      \
      {"server_" col "_mean", C_STAT, offsetof(struct lb_server_report, f), 1}, {                  \
    "server_" col "_ewma", C_STAT, offsetof(struct lb_server_report, f), 2                         \
  }

static const struct column columns[] = {
    {"test_stage", C_STAGE, 0, 0},
    {"client", C_CLIENT, 0, 0},
    {"server", C_SERVER, 0, 0},
    {"is_probe", C_PROBE, 0, 0},
    TICKS(started_on_tick),
    TICKS(completed_on_tick),
    TICKS(tick_at_send),
    TICKS(tick_at_server_queue),
    TICKS(tick_at_processing),
    TICKS(tick_at_receive),
    TICKS(tick_at_completion),
    {"ticks_between_start_and_completion", C_BETWEEN, 0, 0},
    TICKS(total_ticks),
    TICKS(picking_ticks),
    TICKS(send_ticks),
    TICKS(server_queue_ticks),
    TICKS(processing_ticks),
    TICKS(receive_ticks),
    STAT("utilization", utilization),
    STAT("queries_per_tick", queries_per_tick),
    STAT("requests_in_flight", requests_in_flight),
    STAT("queued_requests", queued_requests),
    {"server_pid_weight", C_PID, 0, 0},
    {"outcome", C_OUTCOME, 0, 0},
    NS(intended_ns),
    NS(send_ns),
    NS(server_queue_ns),
    NS(processing_ns),
    NS(receive_ns),
    NS(completion_ns),
    TICKS(modelled_ticks),
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

static double *stat_part(struct lb_stat *st, int part) {
  return part == 0 ? &st->latest : part == 1 ? &st->mean : &st->ewma;
}

void lb_reqlog_write_header(FILE *f) {
  for (size_t i = 0; i < NCOLS; i++)
    fprintf(f, "%s%s", i ? "," : "", columns[i].name);
  fputc('\n', f);
}

static void put_double(FILE *f, double v) {
  char buf[40];
  if (isnan(v))
    return;
  lb_reqlog_format_double(buf, sizeof(buf), v);
  fputs(buf, f);
}

int lb_reqlog_write(FILE *f, const struct lb_request_record *rec) {
  for (size_t i = 0; i < NCOLS; i++) {
    const struct column *c = &columns[i];
    if (i)
      fputc(',', f);
    switch (c->kind) {
    case C_STAGE:
      fputs(lb_stage_name(rec->stage), f);
      break;
    case C_CLIENT:
      fprintf(f, "Client %d", rec->client);
      break;
    case C_SERVER:
      if (rec->server >= 0)
        fprintf(f, "Server %d", rec->server);
      break;
    case C_PROBE:
      fputs(rec->is_probe ? "True" : "False", f);
      break;
    case C_TICKS:
      put_double(f, *(const double *)((const char *)rec + c->offset));
      break;
    case C_BETWEEN:
      put_double(f, rec->completed_on_tick - rec->started_on_tick);
      break;
    case C_STAT: {
      struct lb_stat st = *(const struct lb_stat *)((const char *)&rec->report + c->offset);
      if (rec->has_report && st.valid)
        put_double(f, *stat_part(&st, c->part));
      break;
    }
    case C_PID:
      if (rec->has_report)
        put_double(f, rec->report.pid_weight);
      break;
    case C_OUTCOME:
      fputs(lb_outcome_name(rec->outcome), f);
      break;
    case C_NS: {
      int64_t ns = *(const int64_t *)((const char *)rec + c->offset);
      char buf[24];
      size_t n = 0;
      if (ns < 0)
        buf[n++] = '-';
      n += put_uint(buf + n, ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns);
      fwrite(buf, 1, n, f);
      break;
    }
    }
  }
  fputc('\n', f);
  return ferror(f) ? -EIO : 0;
}

struct lb_reqlog_reader {
  FILE *f;
  char *path;
  size_t lineno;
  char *line;
  size_t linecap;
  int pos[NCOLS]; /* cell index of each column, -1 when absent */
  size_t ncells;  /* cells in the header */
  char **cells;
};

static const char *const required[] = {"test_stage", "client", "server", "is_probe", "total_ticks"};

int lb_reqlog_reader_open(const char *path, struct lb_reqlog_reader **out, char *err,
                          size_t errlen) {
  *out = NULL;
  struct lb_reqlog_reader *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return -ENOMEM;
  int rc = 0;
  r->f = fopen(path, "r");
  if (r->f == NULL) {
    rc = -errno;
    lb_errf(err, errlen, "%s: cannot open request log: %s", path, strerror(errno));
    goto fail;
  }
  r->path = strdup(path);
  if (r->path == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  size_t cellcap = 0;
  if ((rc = lb_csv_read_row(r->f, &r->line, &r->linecap, &r->cells, &cellcap, &r->ncells)) != 1) {
    if (rc == 0) {
      lb_errf(err, errlen, "%s:1: expected a header of column names, got an empty file", path);
      rc = -EINVAL;
    }
    goto fail;
  }
  r->lineno = 1;
  for (size_t c = 0; c < NCOLS; c++) {
    r->pos[c] = -1;
    for (size_t i = 0; i < r->ncells; i++)
      if (strcmp(r->cells[i], columns[c].name) == 0)
        r->pos[c] = (int)i;
  }
  for (size_t q = 0; q < sizeof(required) / sizeof(required[0]); q++) {
    for (size_t c = 0; c < NCOLS; c++) {
      if (strcmp(columns[c].name, required[q]) == 0 && r->pos[c] < 0) {
        char seen[LB_EXCERPT_BUF];
        lb_errf(err, errlen, "%s:1: expected a header with column '%s', got '%s...'", path,
                required[q], lb_excerpt(seen, sizeof(seen), r->cells[0]));
        rc = -EINVAL;
        goto fail;
      }
    }
  }
  *out = r;
  return 0;
fail:
  lb_reqlog_reader_close(r);
  return rc;
}

static bool parse_double(const char *s, double *out) {
  if (s[0] == '\0') {
    *out = NAN;
    return true;
  }
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || *end != '\0')
    return false;
  *out = v;
  return true;
}

/* "Client 3" (or "3") to 3. */
static bool parse_entity(const char *s, const char *prefix, int *out) {
  size_t pl = strlen(prefix);
  if (strncmp(s, prefix, pl) == 0)
    s += pl;
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v < 0 || v > INT32_MAX)
    return false;
  *out = (int)v;
  return true;
}

static bool parse_cell(const struct column *c, const char *s, struct lb_request_record *rec) {
  switch (c->kind) {
  case C_STAGE:
    for (int st = LB_STAGE_WARMING; st <= LB_STAGE_COOLING; st++) {
      if (strcmp(s, lb_stage_name((enum lb_stage)st)) == 0) {
        rec->stage = (enum lb_stage)st;
        return true;
      }
    }
    return false;
  case C_CLIENT:
    return parse_entity(s, "Client ", &rec->client);
  case C_SERVER:
    if (s[0] == '\0') {
      rec->server = -1;
      return true;
    }
    return parse_entity(s, "Server ", &rec->server);
  case C_PROBE:
    if (strcmp(s, "True") == 0 || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
      rec->is_probe = true;
    else if (strcmp(s, "False") == 0 || strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
      rec->is_probe = false;
    else
      return false;
    return true;
  case C_TICKS:
    return parse_double(s, (double *)((char *)rec + c->offset));
  case C_BETWEEN:
    return true;
  case C_STAT: {
    struct lb_stat *st = (struct lb_stat *)((char *)&rec->report + c->offset);
    double v;
    if (s[0] == '\0')
      return true; /* None */
    if (!parse_double(s, &v))
      return false;
    rec->has_report = true;
    st->valid = st->valid || c->part == 0;
    *stat_part(st, c->part) = v;
    return true;
  }
  case C_PID:
    if (s[0] == '\0')
      return true;
    rec->has_report = true;
    return parse_double(s, &rec->report.pid_weight);
  case C_OUTCOME:
    for (int o = LB_OUTCOME_COMPLETED; o <= LB_OUTCOME_TIMED_OUT; o++) {
      if (strcmp(s, lb_outcome_name((enum lb_outcome)o)) == 0) {
        rec->outcome = (enum lb_outcome)o;
        return true;
      }
    }
    return false;
  case C_NS: {
    if (s[0] == '\0') {
      *(int64_t *)((char *)rec + c->offset) = 0;
      return true;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0)
      return false;
    *(int64_t *)((char *)rec + c->offset) = v;
    return true;
  }
  }
  return false;
}

static const char *expected_text(enum col_kind k) {
  switch (k) {
  case C_STAGE:
    return "WARMING, RUNNING or COOLING";
  case C_CLIENT:
    return "'Client N'";
  case C_SERVER:
    return "'Server N' or empty";
  case C_PROBE:
    return "True or False";
  case C_OUTCOME:
    return "completed, failed or timed_out";
  case C_NS:
    return "an integer";
  default:
    return "a number or empty";
  }
}

int lb_reqlog_reader_next(struct lb_reqlog_reader *r, struct lb_request_record *rec, char *err,
                          size_t errlen) {
  ssize_t got;
  do {
    got = getline(&r->line, &r->linecap, r->f);
    if (got < 0) {
      if (ferror(r->f)) {
        lb_errf(err, errlen, "%s:%zu: read error", r->path, r->lineno + 1);
        return -EIO;
      }
      return 0;
    }
    r->lineno++;
  } while (strspn(r->line, "\r\n") == (size_t)got); /* blank lines */
  size_t n = lb_csv_split(r->line, r->cells, r->ncells);
  if (n != r->ncells) {
    lb_errf(err, errlen, "%s:%zu: expected %zu cells as in the header, got %zu", r->path, r->lineno,
            r->ncells, n);
    return -EINVAL;
  }
  memset(rec, 0, sizeof(*rec));
  rec->stage = LB_STAGE_RUNNING;
  rec->outcome = LB_OUTCOME_COMPLETED;
  rec->server = -1;
  for (size_t c = 0; c < NCOLS; c++) {
    if (columns[c].kind == C_TICKS)
      *(double *)((char *)rec + columns[c].offset) = NAN;
  }
  rec->modelled_ticks = 0;
  for (size_t c = 0; c < NCOLS; c++) {
    if (r->pos[c] < 0)
      continue;
    const char *cell = r->cells[r->pos[c]];
    if (!parse_cell(&columns[c], cell, rec)) {
      char seen[LB_EXCERPT_BUF];
      lb_errf(err, errlen, "%s:%zu: column '%s': expected %s, got '%s'", r->path, r->lineno,
              columns[c].name, expected_text(columns[c].kind), lb_excerpt(seen, sizeof(seen), cell));
      return -EINVAL;
    }
  }
  return 1;
}

void lb_reqlog_reader_close(struct lb_reqlog_reader *r) {
  if (r == NULL)
    return;
  if (r->f)
    fclose(r->f);
  free(r->path);
  free(r->line);
  free(r->cells);
  free(r);
}
