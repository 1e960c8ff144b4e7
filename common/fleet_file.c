/* fleet_file: reading and writing fleets (fleet_file.h). */
#include "fleet_file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "picker.h"
#include "reqlog.h"

int lb_fleet_spec_alloc(struct lb_fleet_spec *f, int servers, int clients, int slots) {
  memset(f, 0, sizeof(*f));
  if (servers < 1 || clients < 1 || slots < 1)
    return -EINVAL;
  size_t channels = (size_t)clients * (size_t)slots;
  f->server = calloc((size_t)servers, sizeof(*f->server));
  f->subset = calloc(channels, sizeof(*f->subset));
  f->mean_ticks = calloc(channels, sizeof(*f->mean_ticks));
  if (f->server == NULL || f->subset == NULL || f->mean_ticks == NULL) {
    lb_fleet_spec_free(f);
    return -ENOMEM;
  }
  f->servers = servers;
  f->clients = clients;
  f->slots = slots;
  return 0;
}

void lb_fleet_spec_free(struct lb_fleet_spec *f) {
  free(f->server);
  free(f->subset);
  free(f->mean_ticks);
  memset(f, 0, sizeof(*f));
}

void lb_fleet_file_close(struct lb_fleet_file *f) {
  for (size_t i = 0; i < f->n; i++)
    lb_fleet_spec_free(&f->fleets[i]);
  free(f->fleets);
  f->fleets = NULL;
  f->n = 0;
}

int lb_fleet_spec_check(const struct lb_fleet_spec *f, const struct lb_scenario *sc, char *err,
                        size_t errlen) {
  int slots = lb_fleet_subset_len(sc);
  if (f->servers == sc->servers && f->clients == sc->clients && f->slots == slots)
    return 0;
  lb_errf(err, errlen,
          "fleet '%s' has %d servers, %d clients of %d channels; scenario '%s' has %d, %d of %d",
          f->label, f->servers, f->clients, f->slots, sc->name, sc->servers, sc->clients, slots);
  return -EINVAL;
}

int lb_fleet_file_load_for(const char *path, const struct lb_scenario *sc,
                           struct lb_fleet_file *out, char *err, size_t errlen) {
  char why[512];
  int rc = lb_fleet_file_load(path, out, err, errlen);
  if (rc < 0)
    return rc;
  if (out->n == 0) {
    lb_errf(err, errlen, "%s: expected at least one fleet, got none", path);
    lb_fleet_file_close(out);
    return -EINVAL;
  }
  for (size_t k = 0; k < out->n; k++)
    if (lb_fleet_spec_check(&out->fleets[k], sc, why, sizeof(why)) < 0) {
      lb_errf(err, errlen, "%s:%zu: %s", path, out->fleets[k].line, why);
      lb_fleet_file_close(out);
      return -EINVAL;
    }
  return 0;
}

const struct lb_fleet_spec *lb_fleet_file_for_run(const struct lb_fleet_file *f, int run) {
  return f->n ? &f->fleets[(size_t)(run < 0 ? 0 : run) % f->n] : NULL;
}

int lb_fleet_spec_write(const struct lb_fleet_spec *f, FILE *out) {
  char num[32];
  fprintf(out, "fleet %s\n", f->label);
  for (int s = 0; s < f->servers; s++)
    fprintf(out, "server %d %d %d\n", f->server[s].threads, f->server[s].mean_processing_time,
            f->server[s].mean_rtt);
  for (int c = 0; c < f->clients; c++) {
    fputs("client", out);
    for (int k = 0; k < f->slots; k++) {
      size_t i = (size_t)c * (size_t)f->slots + (size_t)k;
      lb_reqlog_format_double(num, sizeof(num), f->mean_ticks[i]);
      fprintf(out, " %d:%s", f->subset[i], num);
    }
    fputc('\n', out);
  }
  return ferror(out) ? -EIO : 0;
}

/* ---- reading ---- */

struct reader {
  const char *path;
  size_t lineno;
  char *err;
  size_t errlen;
  struct lb_fleet_file *out;
  size_t cap;
  /* the fleet being read (out->fleets[out->n - 1]) and its room */
  struct lb_fleet_spec *f;
  size_t server_cap, subset_cap, mean_cap;
};

static int fail(struct reader *r, int rc, const char *what, const char *detail) {
  lb_errf(r->err, r->errlen, "%s:%zu: %s%s", r->path, r->lineno, what, detail);
  return rc;
}

/* The same with text from the file: quoted only as a short escaped excerpt. */
static int fail_got(struct reader *r, const char *what, const char *text) {
  char seen[LB_EXCERPT_BUF];
  return fail(r, -EINVAL, what, lb_excerpt(seen, sizeof(seen), text));
}

static bool parse_int(const char *s, long min, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0 || v < min || v > INT_MAX)
    return false;
  *out = v;
  return true;
}

static int grow(void **p, size_t *cap, size_t want, size_t size) {
  if (want <= *cap)
    return 0;
  if (want > SIZE_MAX / 2 / size)
    return -ENOMEM;
  size_t n = *cap ? *cap * 2 : 16;
  while (n < want)
    n *= 2;
  void *q = realloc(*p, n * size);
  if (q == NULL)
    return -ENOMEM;
  *p = q;
  *cap = n;
  return 0;
}

/* Says what the fleet just read lacks, if anything. */
static int finish_fleet(struct reader *r) {
  if (r->f == NULL)
    return 0;
  const char *what = r->f->servers == 0 ? "no server lines" : r->f->clients == 0 ? "no client lines" : NULL;
  if (what == NULL)
    return 0;
  lb_errf(r->err, r->errlen, "%s:%zu: fleet '%s' has %s", r->path, r->f->line, r->f->label, what);
  return -EINVAL;
}

static int start_fleet(struct reader *r, const char *label) {
  int rc = finish_fleet(r);
  if (rc < 0)
    return rc;
  if (grow((void **)&r->out->fleets, &r->cap, r->out->n + 1, sizeof(*r->out->fleets)) < 0)
    return -ENOMEM;
  r->f = &r->out->fleets[r->out->n++];
  memset(r->f, 0, sizeof(*r->f));
  snprintf(r->f->label, sizeof(r->f->label), "%s", label);
  r->server_cap = r->subset_cap = r->mean_cap = 0;
  r->f->line = r->lineno;
  return 0;
}

static int server_line(struct reader *r, char **tok, int ntok) {
  static const char *const names[] = {"THREADS: expected an integer from 1 to 2147483647, got ",
                                      ("MEAN_PROCESSING_TIME: expected an integer from 0 to "
                                       "2147483647, got "),
                                      "MEAN_RTT: expected an integer from 0 to 2147483647, got "};
  long v[3];
  if (ntok != 4)
    return fail(r, -EINVAL, "expected 'server THREADS MEAN_PROCESSING_TIME MEAN_RTT'", "");
  for (int i = 0; i < 3; i++)
    if (!parse_int(tok[i + 1], i == 0 ? 1 : 0, &v[i]))
      return fail_got(r, names[i], tok[i + 1]);
  if (r->f->clients > 0)
    return fail(r, -EINVAL, "a server line after the fleet's client lines", "");
  if (grow((void **)&r->f->server, &r->server_cap, (size_t)r->f->servers + 1,
           sizeof(*r->f->server)) < 0)
    return -ENOMEM;
  r->f->server[r->f->servers++] =
      (struct lb_server_params){.threads = (int)v[0], .mean_processing_time = (int)v[1],
                                .mean_rtt = (int)v[2]};
  return 0;
}

static int client_line(struct reader *r, char **tok, int ntok) {
  struct lb_fleet_spec *f = r->f;
  int slots = ntok - 1;
  if (slots < 1)
    return fail(r, -EINVAL, "expected 'client SERVER:MEAN_TICKS ...', one per channel", "");
  if (f->servers == 0)
    return fail(r, -EINVAL, "a client line before the fleet's server lines", "");
  if (f->clients > 0 && slots != f->slots) {
    char detail[64];
    snprintf(detail, sizeof(detail), " (%d, the first client has %d)", slots, f->slots);
    return fail(r, -EINVAL, "every client needs the same number of channels", detail);
  }
  f->slots = slots;
  size_t at = (size_t)f->clients * (size_t)slots;
  if (grow((void **)&f->subset, &r->subset_cap, at + (size_t)slots, sizeof(*f->subset)) < 0 ||
      grow((void **)&f->mean_ticks, &r->mean_cap, at + (size_t)slots, sizeof(*f->mean_ticks)) < 0)
    return -ENOMEM;
  for (int k = 0; k < slots; k++) {
    char *entry = tok[k + 1], *colon = strchr(entry, ':');
    long server;
    char *end = NULL;
    if (colon == NULL)
      return fail_got(r, "expected SERVER:MEAN_TICKS, got ", entry);
    *colon = '\0';
    if (!parse_int(entry, 0, &server) || server >= f->servers) {
      char detail[LB_EXCERPT_BUF + 48], seen[LB_EXCERPT_BUF];
      snprintf(detail, sizeof(detail), "%s (the fleet has servers 0 to %d)",
               lb_excerpt(seen, sizeof(seen), entry), f->servers - 1);
      return fail(r, -EINVAL, "no such server: ", detail);
    }
    double mean = strtod(colon + 1, &end);
    if (end == colon + 1 || *end != '\0' || !isfinite(mean) || mean < 0)
      return fail_got(r, "MEAN_TICKS: expected a number >= 0, got ", colon + 1);
    f->subset[at + (size_t)k] = (int)server;
    f->mean_ticks[at + (size_t)k] = mean;
  }
  f->clients++;
  return 0;
}

/* `fleet LABEL`: the label is the rest of the line, blanks collapsed. */
static int fleet_line(struct reader *r, const char *rest) {
  char label[sizeof(r->f->label)];
  size_t at = 0;
  for (const char *c = rest; *c != '\0' && at < sizeof(label) - 1; c++) {
    bool blank = *c == ' ' || *c == '\t' || *c == '\r' || *c == '\n';
    if (!blank)
      label[at++] = *c;
    else if (at > 0 && label[at - 1] != ' ')
      label[at++] = ' ';
  }
  while (at > 0 && label[at - 1] == ' ')
    at--;
  label[at] = '\0';
  return start_fleet(r, label);
}

static int read_line(struct reader *r, char *s) {
  char *tok[LB_PICK_MAX_CHANNELS + 2], *save = NULL;
  int ntok = 0;
  s += strspn(s, " \t");
  if (strncmp(s, "fleet", 5) == 0 && (s[5] == '\0' || strchr(" \t\r\n", s[5]) != NULL))
    return fleet_line(r, s + 5);
  for (char *t = strtok_r(s, " \t\r\n", &save); t != NULL; t = strtok_r(NULL, " \t\r\n", &save)) {
    if (ntok == (int)(sizeof(tok) / sizeof(tok[0]))) {
      char detail[48];
      snprintf(detail, sizeof(detail), " (a client has at most %d channels)",
               LB_PICK_MAX_CHANNELS);
      return fail(r, -EINVAL, "too many fields", detail);
    }
    tok[ntok++] = t;
  }
  if (ntok == 0 || tok[0][0] == '#')
    return 0;
  bool server = strcmp(tok[0], "server") == 0, client = strcmp(tok[0], "client") == 0;
  if (!server && !client)
    return fail_got(r, "expected a 'fleet', 'server' or 'client' line, got ", tok[0]);
  if (r->f == NULL) {
    int rc = start_fleet(r, "");
    if (rc < 0)
      return rc;
  }
  return server ? server_line(r, tok, ntok) : client_line(r, tok, ntok);
}

int lb_fleet_file_load(const char *path, struct lb_fleet_file *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  FILE *in = fopen(path, "r");
  if (in == NULL) {
    int e = errno;
    lb_errf(err, errlen, "%s: cannot open fleet file: %s", path, strerror(e));
    return -e;
  }
  struct reader r = {.path = path, .err = err, .errlen = errlen, .out = out};
  char *line = NULL;
  size_t linecap = 0;
  int rc = 0;
  while (rc == 0 && getline(&line, &linecap, in) >= 0) {
    r.lineno++;
    rc = read_line(&r, line);
  }
  if (rc == 0 && ferror(in)) {
    int e = errno;
    lb_errf(err, errlen, "%s: cannot read fleet file: %s", path, strerror(e));
    rc = -EIO;
  }
  if (rc == 0)
    rc = finish_fleet(&r);
  if (rc == 0 && out->n == 0) {
    lb_errf(err, errlen, "%s: no fleet in the file", path);
    rc = -EINVAL;
  }
  if (rc == -ENOMEM)
    lb_errf(err, errlen, "%s: out of memory", path);
  free(line);
  fclose(in);
  if (rc < 0)
    lb_fleet_file_close(out);
  return rc;
}
