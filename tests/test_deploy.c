/* harness_deploy: the netns layout, and the compose and Kubernetes files
 * read back with libyaml: well-formed, and naming every process of the
 * scenario with the right command line. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "harness_deploy.h"
#include "harness_deploy_cli.h"
#include "harness_manifest.h"

static void scenario(struct lb_scenario *sc, int servers, int clients) {
  lb_scenario_defaults(sc);
  snprintf(sc->name, sizeof(sc->name), "Deploy Test");
  snprintf(sc->picker, sizeof(sc->picker), "least(server.rif)");
  sc->servers = servers;
  sc->clients = clients;
  sc->subset_size = 0;
  sc->tick_ns = 1000000;
  sc->seed = 3;
}

/* ---- reading YAML back ---- */

struct docs {
  yaml_document_t doc[8];
  int n;
};

static void parse_all(const char *text, struct docs *d) {
  yaml_parser_t p;
  assert_true(yaml_parser_initialize(&p));
  yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
  d->n = 0;
  for (;;) {
    assert_true(d->n < 8);
    if (!yaml_parser_load(&p, &d->doc[d->n]))
      fail_msg("YAML error: %s at line %zu", p.problem, p.problem_mark.line + 1);
    if (yaml_document_get_root_node(&d->doc[d->n]) == NULL) {
      yaml_document_delete(&d->doc[d->n]);
      break;
    }
    d->n++;
  }
  yaml_parser_delete(&p);
}

static void free_all(struct docs *d) {
  for (int i = 0; i < d->n; i++)
    yaml_document_delete(&d->doc[i]);
}

static const char *scalar(yaml_node_t *n) {
  assert_non_null(n);
  assert_int_equal(n->type, YAML_SCALAR_NODE);
  return (const char *)n->data.scalar.value;
}

static yaml_node_t *get(yaml_document_t *doc, yaml_node_t *map, const char *key) {
  if (map == NULL || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
      return yaml_document_get_node(doc, p->value);
  }
  return NULL;
}

/* A path of keys ("a.b.c" is not enough: label keys have dots), NULL-ended. */
static yaml_node_t *dig(yaml_document_t *doc, yaml_node_t *n, ...) {
  va_list ap;
  va_start(ap, n);
  for (const char *k = va_arg(ap, const char *); k != NULL && n != NULL;
       k = va_arg(ap, const char *))
    n = get(doc, n, k);
  va_end(ap);
  return n;
}

static size_t seq_len(yaml_node_t *n) {
  assert_non_null(n);
  assert_int_equal(n->type, YAML_SEQUENCE_NODE);
  return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *item(yaml_document_t *doc, yaml_node_t *seq, size_t i) {
  assert_true(i < seq_len(seq));
  return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    fwrite(chunk, 1, n, m);
  fclose(f);
  fclose(m);
  return buf;
}

static char *compose_text(const struct lb_scenario *sc, const struct lb_deploy_options *o) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  char err[512] = "";
  int rc = lb_deploy_compose_write(sc, o, "./lbt-scenario.yaml", f, err, sizeof(err));
  fclose(f);
  if (rc != 0)
    fail_msg("compose: %s", err);
  return text;
}

/* ---- tests ---- */

static void test_layout(void **state) {
  (void)state;
  int first, count, next = 0;
  for (int j = 0; j < 3; j++) {
    lb_deploy_client_range(8, 3, j, &first, &count);
    assert_int_equal(first, next);
    assert_int_equal(count, j < 2 ? 3 : 2);
    next += count;
  }
  assert_int_equal(next, 8);
  struct lb_scenario sc;
  scenario(&sc, 4, 3);
  assert_int_equal(lb_deploy_client_procs(&sc, 0), 3);
  assert_int_equal(lb_deploy_client_procs(&sc, 2), 2);
  sc.clients = 40;
  assert_int_equal(lb_deploy_client_procs(&sc, 0), 4);

  char buf[64];
  assert_int_equal(lb_deploy_netns_name("f1", 's', 3, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "lbt-f1-s3");
  assert_int_equal(lb_deploy_netns_name("f1", 'b', 0, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "lbt-f1-br");
  assert_int_equal(lb_deploy_netns_addr('s', 0, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "10.77.1.1");
  assert_int_equal(lb_deploy_netns_addr('s', 300, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "10.77.2.51");
  assert_int_equal(lb_deploy_netns_addr('c', 1, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "10.77.128.2");
  assert_int_equal(lb_deploy_netns_addr('x', 1, buf, sizeof(buf)), -EINVAL);
  assert_int_equal(lb_deploy_netns_addr('c', LB_DEPLOY_NETNS_MAX_HOSTS, buf, sizeof(buf)), -EINVAL);
}

static void test_compose(void **state) {
  (void)state;
  struct lb_scenario sc;
  scenario(&sc, 3, 5);
  struct lb_deploy_options o;
  lb_deploy_options_defaults(&o);
  o.client_procs = 2;
  o.run = 1;
  o.start_at_realtime_ns = 1700000000123456789LL;
  snprintf(sc.server_cpus, sizeof(sc.server_cpus), "1, 1,0.5");
  snprintf(sc.server_memory, sizeof(sc.server_memory), "256m");
  char *text = compose_text(&sc, &o);
  struct docs d;
  parse_all(text, &d);
  assert_int_equal(d.n, 1);
  yaml_document_t *doc = &d.doc[0];
  yaml_node_t *root = yaml_document_get_root_node(doc);
  assert_string_equal(scalar(get(doc, root, "name")), "lbt-deploy-test");
  yaml_node_t *services = get(doc, root, "services");
  assert_non_null(services);
  /* Every process of the scenario, and nothing else. */
  assert_int_equal(services->data.mapping.pairs.top - services->data.mapping.pairs.start, 3 + 2);
  for (int i = 0; i < 3; i++) {
    char name[32], want[128];
    snprintf(name, sizeof(name), "server-%d", i);
    yaml_node_t *s = get(doc, services, name);
    assert_non_null(s);
    assert_string_equal(scalar(get(doc, s, "image")), "lbtestbed:latest");
    yaml_node_t *cmd = get(doc, s, "command");
    assert_int_equal(seq_len(cmd), 3);
    const char *line = scalar(item(doc, cmd, 2));
    snprintf(want, sizeof(want), "--index %d --run 1 ", i);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, "--port 7000 --udp-port 7001"));
    assert_string_equal(scalar(item(doc, get(doc, s, "volumes"), 0)),
                        "./lbt-scenario.yaml:/etc/lbtestbed/scenario.yaml:ro");
    /* No healthcheck (podman-compose 1.0 runs none): the fleet's gate in
     * the logs volume; compose's $ interpolation escaped. */
    assert_null(get(doc, s, "healthcheck"));
    snprintf(want, sizeof(want), "rm -f $$L/$$R-server-%d.port; : > $$L/$$R-ready-server-%d;", i,
             i);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, "[ $$n -ge 5 ]"));
    assert_non_null(strstr(line, "--start-at-realtime-ns $$T & p=$$!"));
    /* The fixed tick 0 asked for, written once by whoever sees all ready. */
    assert_non_null(strstr(line, "(set -C; echo \"1700000000123456789\" > $$L/$$R-go)"));
    /* Stopped once both client processes wrote their stats. */
    assert_non_null(strstr(line, "$$R-client-*.stats"));
    assert_non_null(strstr(line, "[ $$n -ge 2 ]; do sleep 0.2; done; kill -TERM $$p"));
    assert_null(strstr(line, "sleep infinity"));
    /* Limits: one value for all, or one per server. */
    assert_string_equal(scalar(get(doc, s, "cpus")), i == 2 ? "0.5" : "1");
    assert_string_equal(scalar(get(doc, s, "mem_limit")), "268435456b");
  }
  int next = 0;
  for (int j = 0; j < 2; j++) {
    char name[32], want[64];
    snprintf(name, sizeof(name), "client-%d", j);
    yaml_node_t *c = get(doc, services, name);
    assert_non_null(c);
    yaml_node_t *cmd = get(doc, c, "command");
    assert_string_equal(scalar(item(doc, cmd, 0)), "sh");
    const char *line = scalar(item(doc, cmd, 2));
    char want2[256];
    snprintf(want2, sizeof(want2),
             "exec lbclient --scenario /etc/lbtestbed/scenario.yaml --clients %d:%d --run 1 ", next,
             j == 0 ? 3 : 2);
    assert_non_null(strstr(line, want2));
    next += j == 0 ? 3 : 2;
    assert_non_null(
        strstr(line, "--servers server-0:7000:7001,server-1:7000:7001,server-2:7000:7001 "));
    snprintf(want, sizeof(want), "--log /logs/run1-client-%d.csv", j);
    assert_non_null(strstr(line, want));
    /* Every server listens before the client starts, with the fleet's tick 0. */
    assert_non_null(strstr(line, "for i in $$(seq 0 2); do until [ -s $$L/$$R-server-$$i.port ]"));
    assert_non_null(strstr(line, "--start-at-realtime-ns $$T"));
    assert_null(get(doc, c, "depends_on"));
    assert_null(get(doc, c, "cpus"));
    assert_null(get(doc, c, "mem_limit"));
  }
  assert_non_null(dig(doc, root, "volumes", "logs", NULL));
  assert_non_null(dig(doc, root, "networks", "fleet", NULL));
  free_all(&d);
  free(text);
}

static void test_refusals(void **state) {
  (void)state;
  struct lb_scenario sc;
  scenario(&sc, 2, 2);
  struct lb_deploy_options o;
  lb_deploy_options_defaults(&o);
  char err[512] = "";
  snprintf(sc.picker, sizeof(sc.picker), "weighted(oracle.pid, allow_negative=true)");
  FILE *f = fopen("/dev/null", "w");
  assert_int_equal(lb_deploy_compose_write(&sc, &o, "s.yaml", f, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "oracle board needs every server on one machine"));
  err[0] = '\0';
  assert_int_equal(lb_deploy_k8s_write(&sc, &o, "/nonexistent/never-created", err, sizeof(err)),
                   -EINVAL);
  assert_non_null(strstr(err, "oracle board needs every server on one machine"));
  snprintf(sc.picker, sizeof(sc.picker), "least(no.such.cost");
  assert_int_equal(lb_deploy_compose_write(&sc, &o, "s.yaml", f, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "Deploy Test: field 'picker': "));
  /* The server PID needs the fleet's mean, which only the board carries. */
  snprintf(sc.picker, sizeof(sc.picker), "weighted(server.pid)");
  assert_int_equal(lb_deploy_compose_write(&sc, &o, "s.yaml", f, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "reads the servers' PID weight (server.pid)"));
  snprintf(sc.picker, sizeof(sc.picker), "least(server.rif)");
  assert_int_equal(lb_deploy_check_portable(&sc, err, sizeof(err)), 0);
  snprintf(sc.picker, sizeof(sc.picker), "round_robin");
  sc.delay = LB_DELAY_NETEM;
  assert_int_equal(lb_deploy_compose_write(&sc, &o, "s.yaml", f, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "field 'delay'"));
  /* One StatefulSet: one set of limits. */
  sc.delay = LB_DELAY_INPROC;
  snprintf(sc.server_cpus, sizeof(sc.server_cpus), "1,2");
  assert_int_equal(lb_deploy_k8s_write(&sc, &o, "/nonexistent/never-created", err, sizeof(err)),
                   -EINVAL);
  assert_non_null(strstr(err, "give one value each for Kubernetes"));
  assert_int_equal(lb_deploy_compose_write(&sc, &o, "s.yaml", f, err, sizeof(err)), 0);
  fclose(f);
}

static void test_k8s(void **state) {
  (void)state;
  char dir[] = "/tmp/lbt-k8s-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char trace[512];
  snprintf(trace, sizeof(trace), "%s/arrivals.csv", dir);
  FILE *t = fopen(trace, "w");
  assert_non_null(t);
  fputs("tick,client\n0,0\n1,3\n", t);
  fclose(t);
  struct lb_scenario sc;
  scenario(&sc, 4, 7);
  sc.arrivals = LB_ARRIVALS_TRACE;
  snprintf(sc.trace, sizeof(sc.trace), "%s", trace);
  struct lb_deploy_options o;
  lb_deploy_options_defaults(&o);
  o.client_procs = 3;
  o.namespace_name = "exp1";
  o.image = "registry.example/lbtestbed:1";
  snprintf(sc.server_cpus, sizeof(sc.server_cpus), "0.5");
  snprintf(sc.server_memory, sizeof(sc.server_memory), "1g");
  char err[512] = "", out[600];
  snprintf(out, sizeof(out), "%s/m", dir);
  if (lb_deploy_k8s_write(&sc, &o, out, err, sizeof(err)) != 0)
    fail_msg("k8s: %s", err);

  const char *files[] = {"00-scenario.yaml", "10-logs.yaml", "20-servers.yaml", "30-clients.yaml"};
  const char *kinds[] = {"ConfigMap", "PersistentVolumeClaim", "Pod",
                         "Service",   "StatefulSet",           "Job"};
  size_t nkind = 0;
  for (size_t fi = 0; fi < sizeof(files) / sizeof(files[0]); fi++) {
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", out, files[fi]);
    char *text = read_file(path);
    struct docs d;
    parse_all(text, &d);
    for (int i = 0; i < d.n; i++) {
      yaml_document_t *doc = &d.doc[i];
      yaml_node_t *root = yaml_document_get_root_node(doc);
      const char *kind = scalar(get(doc, root, "kind"));
      assert_true(nkind < 6);
      assert_string_equal(kind, kinds[nkind++]);
      assert_string_equal(scalar(dig(doc, root, "metadata", "namespace", NULL)), "exp1");
      if (strcmp(kind, "ConfigMap") == 0) {
        /* The scenario reads back, with the trace at its container path. */
        struct lb_scenario back;
        lb_scenario_defaults(&back);
        const char *yaml = scalar(dig(doc, root, "data", "scenario.yaml", NULL));
        assert_int_equal(lb_scenario_parse_string(yaml, "configmap", &back, err, sizeof(err)), 0);
        assert_int_equal(back.servers, 4);
        assert_int_equal(back.clients, 7);
        assert_string_equal(back.trace, LB_DEPLOY_TRACE_PATH);
        assert_string_equal(scalar(dig(doc, root, "data", "client-ranges", NULL)),
                            "0:3\n3:2\n5:2\n");
        assert_string_equal(scalar(dig(doc, root, "data", "trace", NULL)),
                            "tick,client\n0,0\n1,3\n");
      } else if (strcmp(kind, "Service") == 0) {
        assert_string_equal(scalar(dig(doc, root, "metadata", "name", NULL)), "server");
        assert_string_equal(scalar(dig(doc, root, "spec", "clusterIP", NULL)), "None");
        assert_string_equal(scalar(dig(doc, root, "spec", "publishNotReadyAddresses", NULL)),
                            "true");
      } else if (strcmp(kind, "StatefulSet") == 0) {
        yaml_node_t *spec = get(doc, root, "spec");
        assert_string_equal(scalar(get(doc, spec, "serviceName")), "server");
        assert_string_equal(scalar(get(doc, spec, "replicas")), "4");
        yaml_node_t *c = item(doc, dig(doc, spec, "template", "spec", "containers", NULL), 0);
        assert_string_equal(scalar(get(doc, c, "image")), "registry.example/lbtestbed:1");
        const char *line = scalar(item(doc, get(doc, c, "command"), 2));
        assert_non_null(strstr(line, "i=${HOSTNAME##*-}"));
        assert_non_null(strstr(line, "--index $i --run 0"));
        /* The gate counts every process; the server idles after its run. */
        assert_non_null(strstr(line, ": > $L/$R-ready-server-$i;"));
        assert_non_null(strstr(line, "[ $n -ge 7 ]"));
        assert_non_null(strstr(line, "$(( $(date +%s%N) + 2000000000 ))"));
        assert_non_null(strstr(line, "[ $n -ge 3 ]; do sleep 0.2; done; kill -TERM $p"));
        assert_non_null(strstr(line, "exec sleep infinity"));
        assert_string_equal(scalar(dig(doc, c, "resources", "limits", "cpu", NULL)), "500m");
        assert_string_equal(scalar(dig(doc, c, "resources", "limits", "memory", NULL)),
                            "1073741824");
      } else if (strcmp(kind, "Job") == 0) {
        yaml_node_t *spec = get(doc, root, "spec");
        assert_string_equal(scalar(get(doc, spec, "completionMode")), "Indexed");
        assert_string_equal(scalar(get(doc, spec, "completions")), "3");
        yaml_node_t *c = item(doc, dig(doc, spec, "template", "spec", "containers", NULL), 0);
        const char *line = scalar(item(doc, get(doc, c, "command"), 2));
        assert_non_null(strstr(line, "--servers server-0.server:7000:7001,server-1.server:7000:"
                                     "7001,server-2.server:7000:7001,server-3.server:7000:7001 "));
        assert_non_null(strstr(line, "/etc/lbtestbed/client-ranges"));
        /* No fixed tick 0 asked for: the gate's, from the clock when all are up. */
        assert_non_null(strstr(line, "--start-at-realtime-ns $T"));
        assert_non_null(strstr(line, ": > $L/$R-ready-client-$j;"));
        yaml_node_t *init =
            item(doc, dig(doc, spec, "template", "spec", "initContainers", NULL), 0);
        assert_non_null(strstr(scalar(item(doc, get(doc, init, "command"), 2)), "seq 0 3"));
      }
    }
    free_all(&d);
    free(text);
    unlink(path);
  }
  assert_int_equal(nkind, 6);
  char path[700];
  snprintf(path, sizeof(path), "%s/README.txt", out);
  char *readme = read_file(path);
  assert_non_null(strstr(readme, "kubectl cp -n exp1 lbt-logs-reader:/logs ./logs"));
  free(readme);
  unlink(path);
  rmdir(out);
  unlink(trace);
  rmdir(dir);
}

/* Names that YAML would read as something else come back as strings. */
static void test_quoting(void **state) {
  (void)state;
  struct lb_scenario sc;
  scenario(&sc, 1, 1);
  snprintf(sc.name, sizeof(sc.name), "yes: \"no\" # {x}");
  struct lb_deploy_options o;
  lb_deploy_options_defaults(&o);
  o.image = "true";
  char *text = compose_text(&sc, &o);
  struct docs d;
  parse_all(text, &d);
  yaml_document_t *doc = &d.doc[0];
  yaml_node_t *root = yaml_document_get_root_node(doc);
  yaml_node_t *image = dig(doc, root, "services", "server-0", "image", NULL);
  assert_string_equal(scalar(image), "true");
  assert_int_not_equal(image->data.scalar.style, YAML_PLAIN_SCALAR_STYLE);
  assert_string_equal(scalar(get(doc, root, "name")), "lbt-yes-no-x");
  free_all(&d);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout),   cmocka_unit_test(test_compose),
      cmocka_unit_test(test_refusals), cmocka_unit_test(test_k8s),
      cmocka_unit_test(test_quoting),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
