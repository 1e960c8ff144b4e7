/* harness_yaml: a small YAML writer over libyaml's emitter, for the
 * compose and Kubernetes files (harness_compose.c, harness_k8s.c). A
 * failed emit is remembered; lb_yaml_close reports it. */
#ifndef LB_HARNESS_YAML_H
#define LB_HARNESS_YAML_H

#include <stdbool.h>
#include <stdio.h>
#include <yaml.h>

struct lb_yaml {
  yaml_emitter_t em;
  bool failed;
};

/* Starts the emitter on f; 0 or -ENOMEM. */
int lb_yaml_open(struct lb_yaml *w, FILE *f);
/* Ends the stream; 0, or -EIO when any emit failed. */
int lb_yaml_close(struct lb_yaml *w);
/* Starts a document (the first of the stream opens the stream), ends one. */
void lb_yaml_doc(struct lb_yaml *w, bool first);
void lb_yaml_doc_end(struct lb_yaml *w);
/* A string that a YAML reader must read back as a string. */
void lb_yaml_str(struct lb_yaml *w, const char *s);
/* Emits nodes described by fmt, one character each, taking arguments in
 * order: '{' '}' a block mapping, '<' '>' a flow mapping, '[' ']' a block
 * sequence, '(' ')' a flow sequence, 's' a string, 'i' an int, 'b' a bool
 * (int), 'L' a string as a literal block; spaces are ignored. Keys are
 * strings like any other: lb_yaml_put(w, "{ss si}", "kind", "Job", "port", 80). */
void lb_yaml_put(struct lb_yaml *w, const char *fmt, ...);
/* A string built with printf. */
void lb_yaml_strf(struct lb_yaml *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
