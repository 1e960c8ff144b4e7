/* statsfile: the daemons' key=value --stats files (statsfile.h). */
#include "statsfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lb_statsfile_put_int(FILE *f, const char *key, long long v) {
  fprintf(f, "%s=%lld\n", key, v);
}

void lb_statsfile_put_real(FILE *f, const char *key, double v, int decimals) {
  fprintf(f, "%s=%.*f\n", key, decimals, v);
}

int lb_statsfile_parse(const char *text, struct lb_statsfile *kv) {
  kv->n = 0;
  const char *line = text;
  while (line && *line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    const char *eq = memchr(line, '=', len);
    if (line[0] != '#' && eq && eq > line && kv->n < LB_STATSFILE_MAX) {
      size_t klen = (size_t)(eq - line);
      char value[64];
      size_t vlen = len - klen - 1;
      if (klen < sizeof(kv->key[0]) && vlen < sizeof(value)) {
        memcpy(value, eq + 1, vlen);
        value[vlen] = '\0';
        char *stop = NULL;
        double v = strtod(value, &stop);
        while (stop && (*stop == ' ' || *stop == '\r' || *stop == '\t'))
          stop++;
        if (stop != value && stop && *stop == '\0') {
          memcpy(kv->key[kv->n], line, klen);
          kv->key[kv->n][klen] = '\0';
          kv->value[kv->n++] = v;
        }
      }
    }
    line = end ? end + 1 : NULL;
  }
  return 0;
}

int lb_statsfile_load(const char *path, struct lb_statsfile *kv) {
  kv->n = 0;
  FILE *f = fopen(path, "r");
  if (!f)
    return -errno;
  char buf[8192];
  size_t got = fread(buf, 1, sizeof(buf) - 1, f);
  buf[got] = '\0';
  fclose(f);
  return lb_statsfile_parse(buf, kv);
}

bool lb_statsfile_get(const struct lb_statsfile *kv, const char *key, double *out) {
  for (size_t i = 0; i < kv->n; i++)
    if (strcmp(kv->key[i], key) == 0) {
      *out = kv->value[i];
      return true;
    }
  return false;
}
