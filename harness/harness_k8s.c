/* harness_k8s: Kubernetes manifests for a scenario's fleet. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errbuf.h"
#include "harness_deploy.h"
#include "harness_manifest.h"
#include "harness_yaml.h"

/* ---- Kubernetes ---- */

/* Opens DIR/NAME and starts a document with the object's head: apiVersion,
 * kind, metadata (name, namespace, labels); leaves the object's mapping
 * open. first: the file's first document. */
static void k8s_object(struct lb_yaml *w, bool first, const struct lb_scenario *sc,
                       const struct lb_deploy_options *o, const char *api, const char *kind,
                       const char *name, const char *component) {
  char label[64];
  lb__manifest_dns_label(sc->name, label, sizeof(label));
  lb_yaml_doc(w, first);
  lb_yaml_put(w, "{ss ss s{ss", "apiVersion", api, "kind", kind, "metadata", "name", name);
  if (o->namespace_name != NULL)
    lb_yaml_put(w, "ss", "namespace", o->namespace_name);
  lb_yaml_put(w, "s{ss ss ss}}", "labels", "app.kubernetes.io/part-of", "lbtestbed",
              "app.kubernetes.io/component", component, "lbtestbed/scenario", label);
}

static void k8s_object_end(struct lb_yaml *w) {
  lb_yaml_put(w, "}");
  lb_yaml_doc_end(w);
}

static void k8s_labels(struct lb_yaml *w, const char *component) {
  lb_yaml_put(w, "{ss ss}", "app.kubernetes.io/part-of", "lbtestbed", "app.kubernetes.io/component",
              component);
}

/* A container that runs `sh -c cmd` with the scenario and the logs mounted;
 * leaves its mapping open. */
static void k8s_container(struct lb_yaml *w, const char *name, const char *image, const char *cmd) {
  lb_yaml_put(w, "{ss ss s[sss] s[{ss ss sb}{ss ss}]", "name", name, "image", image, "command",
              "sh", "-c", cmd, "volumeMounts", "name", "scenario", "mountPath", "/etc/lbtestbed",
              "readOnly", 1, "name", "logs", "mountPath", LB_DEPLOY_LOG_DIR);
}

/* The pod's volumes, and the image's unprivileged user (deploy/Dockerfile),
 * who also gets to write the logs volume. */
static void k8s_pod_common(struct lb_yaml *w) {
  lb_yaml_put(w, "s[{ss s{ss}}{ss s{ss}}]", "volumes", "name", "scenario", "configMap", "name",
              "lbt-scenario", "name", "logs", "persistentVolumeClaim", "claimName", "lbt-logs");
  lb_yaml_put(w, "s{si si si}", "securityContext", "runAsUser", 10001, "runAsGroup", 10001,
              "fsGroup", 10001);
}

static void k8s_ports(struct lb_yaml *w, const char *key) {
  lb_yaml_put(w, "s[{ss si ss}{ss si ss}]", "ports", "name", "tcp", key, LB_DEPLOY_TCP_PORT,
              "protocol", "TCP", "name", "udp", key, LB_DEPLOY_UDP_PORT, "protocol", "UDP");
}

typedef void (*k8s_writer)(struct lb_yaml *w, const struct lb_scenario *sc,
                           const struct lb_deploy_options *o, void *arg);

/* Writes DIR/NAME with write_docs. */
static int k8s_file(const char *dir, const char *name, k8s_writer write_docs,
                    const struct lb_scenario *sc, const struct lb_deploy_options *o, void *arg,
                    char *err, size_t errlen) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    int e = errno;
    lb_errf(err, errlen, "k8s: cannot write %s: %s", path, strerror(e));
    return -e;
  }
  struct lb_yaml w;
  int rc = lb_yaml_open(&w, f);
  if (rc == 0) {
    write_docs(&w, sc, o, arg);
    rc = lb_yaml_close(&w);
  }
  if (fclose(f) != 0 && rc == 0)
    rc = -EIO;
  if (rc != 0)
    lb_errf(err, errlen, "k8s: cannot write %s", path);
  return rc;
}

struct k8s_config {
  const char *scenario, *ranges, *trace;
};

static void k8s_write_config(struct lb_yaml *w, const struct lb_scenario *sc,
                             const struct lb_deploy_options *o, void *arg) {
  const struct k8s_config *c = arg;
  k8s_object(w, true, sc, o, "v1", "ConfigMap", "lbt-scenario", "scenario");
  lb_yaml_put(w, "s{sL sL", "data", "scenario.yaml", c->scenario, "client-ranges", c->ranges);
  if (c->trace != NULL)
    lb_yaml_put(w, "sL", "trace", c->trace);
  lb_yaml_put(w, "}");
  k8s_object_end(w);
}

static void k8s_write_logs(struct lb_yaml *w, const struct lb_scenario *sc,
                           const struct lb_deploy_options *o, void *arg) {
  (void)arg;
  k8s_object(w, true, sc, o, "v1", "PersistentVolumeClaim", "lbt-logs", "logs");
  lb_yaml_put(w, "s{s[s] s{s{ss}}}", "spec", "accessModes", "ReadWriteMany", "resources",
              "requests", "storage", "1Gi");
  k8s_object_end(w);
  /* A pod that only holds the volume, for `kubectl cp lbt-logs-reader:/logs ./logs`. */
  k8s_object(w, false, sc, o, "v1", "Pod", "lbt-logs-reader", "logs");
  lb_yaml_put(w, "s{s[", "spec", "containers");
  k8s_container(w, "reader", o->image, "exec sleep infinity");
  lb_yaml_put(w, "}]");
  k8s_pod_common(w);
  lb_yaml_put(w, "}");
  k8s_object_end(w);
}

static void k8s_write_servers(struct lb_yaml *w, const struct lb_scenario *sc,
                              const struct lb_deploy_options *o, void *arg) {
  const char *const *cmds = arg; /* the server's command, its readiness test */
  /* Headless Service: server-<i>.server resolves to pod i once it is ready. */
  k8s_object(w, true, sc, o, "v1", "Service", "server", "server");
  /* Addresses before readiness: the clients' init container waits for the
   * names, the servers (ready once they listen) wait for the clients. */
  lb_yaml_put(w, "s{ss sb s", "spec", "clusterIP", "None", "publishNotReadyAddresses", 1,
              "selector");
  k8s_labels(w, "server");
  k8s_ports(w, "port");
  lb_yaml_put(w, "}");
  k8s_object_end(w);
  k8s_object(w, false, sc, o, "apps/v1", "StatefulSet", "server", "server");
  lb_yaml_put(w, "s{ss si ss s{s", "spec", "serviceName", "server", "replicas", sc->servers,
              "podManagementPolicy", "Parallel", "selector", "matchLabels");
  k8s_labels(w, "server");
  lb_yaml_put(w, "} s{s{s", "template", "metadata", "labels");
  k8s_labels(w, "server");
  lb_yaml_put(w, "} s{s[", "spec", "containers");
  k8s_container(w, "lbserver", o->image, cmds[0]);
  k8s_ports(w, "containerPort");
  lb_yaml_put(w, "s{s{s(sss)} si}", "readinessProbe", "exec", "command", "sh", "-c", cmds[1],
              "periodSeconds", 1);
  /* One template for every server: lb_deploy_k8s_write took one value. */
  double cpus;
  long long bytes;
  bool c = lb_scenario_server_cpus(sc, 0, &cpus) == 1;
  bool m = lb_scenario_server_memory(sc, 0, &bytes) == 1;
  if (c || m) {
    lb_yaml_put(w, "s{s{", "resources", "limits");
    if (c) {
      lb_yaml_put(w, "s", "cpu");
      lb_yaml_strf(w, "%gm", cpus * 1000);
    }
    if (m) {
      lb_yaml_put(w, "s", "memory");
      lb_yaml_strf(w, "%lld", bytes);
    }
    lb_yaml_put(w, "}}");
  }
  lb_yaml_put(w, "}]");
  k8s_pod_common(w);
  lb_yaml_put(w, "}}}");
  k8s_object_end(w);
}

static void k8s_write_clients(struct lb_yaml *w, const struct lb_scenario *sc,
                              const struct lb_deploy_options *o, void *arg) {
  const char *const *cmds = arg; /* the wait for the servers, the client's command */
  k8s_object(w, true, sc, o, "batch/v1", "Job", "client", "client");
  int procs = lb_deploy_client_procs(sc, o->client_procs);
  lb_yaml_put(w, "s{ss si si si s{s{s", "spec", "completionMode", "Indexed", "completions", procs,
              "parallelism", procs, "backoffLimit", 0, "template", "metadata", "labels");
  k8s_labels(w, "client");
  lb_yaml_put(w, "} s{ss s[", "spec", "restartPolicy", "Never", "initContainers");
  k8s_container(w, "wait-for-servers", o->image, cmds[0]);
  lb_yaml_put(w, "}] s[", "containers");
  k8s_container(w, "lbclient", o->image, cmds[1]);
  lb_yaml_put(w, "}]");
  k8s_pod_common(w);
  lb_yaml_put(w, "}}}");
  k8s_object_end(w);
}

static int k8s_readme(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                      const char *dir, int procs, char *err, size_t errlen) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/README.txt", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    int e = errno;
    lb_errf(err, errlen, "k8s: cannot write %s: %s", path, strerror(e));
    return -e;
  }
  const char *ns = o->namespace_name ? o->namespace_name : "";
  const char *nsflag = o->namespace_name ? " -n " : "";
  fprintf(f,
          "Scenario %s, run %d: %d servers (StatefulSet 'server', DNS server-<i>.server)\n"
          "and %d client processes (indexed Job 'client'), image %s.\n\n"
          "  kubectl apply%s%s -f .\n"
          "  kubectl wait%s%s --for=condition=complete --timeout=%lds job/client\n"
          "  kubectl cp%s%s lbt-logs-reader:%s ./logs\n"
          "  kubectl delete%s%s -f .     (the logs volume goes with it)\n\n"
          "Logs: every process writes to the volume lbt-logs (ReadWriteMany; give it\n"
          "a storageClassName that offers that mode): run%d-client-<j>.csv are the\n"
          "per-request logs (the seed's columns), run%d-*.stats the counts. Feed the\n"
          "clients' CSVs to `lbharness compare` with the scenario.\n",
          sc->name, o->run, sc->servers, procs, o->image, nsflag, ns, nsflag, ns,
          lb__manifest_max_runtime_s(sc, 300), nsflag, ns, LB_DEPLOY_LOG_DIR, nsflag, ns, o->run,
          o->run);
  if (fclose(f) != 0) {
    lb_errf(err, errlen, "k8s: cannot write %s", path);
    return -EIO;
  }
  return 0;
}

int lb_deploy_k8s_write(const struct lb_scenario *sc, const struct lb_deploy_options *o,
                        const char *dir, char *err, size_t errlen) {
  int rc = lb_deploy_check_portable(sc, err, errlen);
  if (rc != 0)
    return rc;
  if (strchr(sc->server_cpus, ',') || strchr(sc->server_memory, ',')) {
    lb_errf(err, errlen,
            "%s: fields 'server_cpus' and 'server_memory': one StatefulSet has one set of "
            "limits for every server: give one value each for Kubernetes (compose and --hosts "
            "containers take one per server)",
            sc->name);
    return -EINVAL;
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    int e = errno;
    lb_errf(err, errlen, "k8s: cannot create %s: %s", dir, strerror(e));
    return -e;
  }
  int procs = lb_deploy_client_procs(sc, o->client_procs);
  struct k8s_config config = {lb__manifest_scenario_text(sc), NULL, NULL};
  size_t cap = (size_t)procs * 24 + 1, used = 0;
  char *ranges = malloc(cap);
  char *servers = lb__manifest_server_list(sc->servers, ".server");
  /* The pod's ordinal (server-3 -> 3) is the server's index. After its run
   * the server idles, so that the StatefulSet does not restart it. */
  char *lbserver = lb__manifest_server_command(sc, o, "$i", 300);
  char *server_script = lbserver ? lb__manifest_fleet_script(sc, o, true, "server-$i", lbserver,
                                                             "exec sleep infinity")
                                 : NULL;
  char *server_cmds[2] = {server_script ? lb__manifest_strf("i=${HOSTNAME##*-}; %s", server_script)
                                        : NULL,
                          lb__manifest_strf("i=${HOSTNAME##*-}; test -s %s/run%d-server-$i.port",
                                            LB_DEPLOY_LOG_DIR, o->run)};
  char *lbclient =
      servers ? lb__manifest_strf(
                    "lbclient --scenario %s --clients \"$r\" --run %d --servers %s --log "
                    "%s/run%d-client-$j.csv --stats %s/run%d-client-$j.stats --max-runtime %ld",
                    LB_DEPLOY_SCENARIO_PATH, o->run, servers, LB_DEPLOY_LOG_DIR, o->run,
                    LB_DEPLOY_LOG_DIR, o->run, lb__manifest_max_runtime_s(sc, 120))
              : NULL;
  char *client_script =
      lbclient ? lb__manifest_fleet_script(sc, o, false, "client-$j", lbclient, NULL) : NULL;
  char *client_cmds[2] = {
      lb__manifest_strf(
          "for i in $(seq 0 %d); do until getent hosts server-$i.server >/dev/null; do sleep 1; "
          "done; done",
          sc->servers - 1),
      client_script ? lb__manifest_strf("j=$JOB_COMPLETION_INDEX; r=$(sed -n \"$((j + 1))p\" "
                                        "/etc/lbtestbed/client-ranges); %s",
                                        client_script)
                    : NULL};
  rc = -ENOMEM;
  if (config.scenario == NULL || ranges == NULL || server_cmds[0] == NULL ||
      server_cmds[1] == NULL || client_cmds[0] == NULL || client_cmds[1] == NULL) {
    lb_errf(err, errlen, "k8s: out of memory");
    goto done;
  }
  ranges[0] = '\0';
  for (int j = 0; j < procs; j++) {
    int first, count;
    lb_deploy_client_range(sc->clients, procs, j, &first, &count);
    used += (size_t)snprintf(ranges + used, cap - used, "%d:%d\n", first, count);
  }
  config.ranges = ranges;
  /* A ConfigMap holds at most 1 MiB. */
  if (sc->arrivals == LB_ARRIVALS_TRACE &&
      (rc = lb__manifest_load_file(sc->trace, (char **)&config.trace, 900 * 1024, err, errlen)) !=
          0)
    goto done;
  if ((rc = k8s_file(dir, "00-scenario.yaml", k8s_write_config, sc, o, &config, err, errlen)) ||
      (rc = k8s_file(dir, "10-logs.yaml", k8s_write_logs, sc, o, NULL, err, errlen)) ||
      (rc = k8s_file(dir, "20-servers.yaml", k8s_write_servers, sc, o, server_cmds, err, errlen)) ||
      (rc = k8s_file(dir, "30-clients.yaml", k8s_write_clients, sc, o, client_cmds, err, errlen)))
    goto done;
  rc = k8s_readme(sc, o, dir, procs, err, errlen);
done:
  free((char *)config.scenario);
  free((char *)config.trace);
  free(ranges);
  free(servers);
  free(lbserver);
  free(server_script);
  free(lbclient);
  free(client_script);
  for (int i = 0; i < 2; i++) {
    free(server_cmds[i]);
    free(client_cmds[i]);
  }
  return rc;
}
