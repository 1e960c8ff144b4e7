/* harness_yaml: a small YAML writer over libyaml's emitter. */
#include "harness_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void yw_emit(struct lb_yaml *w, yaml_event_t *ev) {
  if (w->failed || !yaml_emitter_emit(&w->em, ev))
    w->failed = true;
}

static void yw_scalar(struct lb_yaml *w, const char *s, yaml_scalar_style_t style, bool plain_ok) {
  yaml_event_t ev;
  if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), plain_ok,
                                    !plain_ok, style)) {
    w->failed = true;
    return;
  }
  yw_emit(w, &ev);
}

/* A string that a YAML reader must read back as a string: plain where it
 * cannot be mistaken for a number, bool or null, quoted otherwise. */
void lb_yaml_str(struct lb_yaml *w, const char *s) {
  static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"};
  bool plain = isalpha((unsigned char)s[0]) || s[0] == '/' || s[0] == '.';
  for (const char *p = s; plain && *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_./-", *p))
      plain = false;
  for (size_t i = 0; plain && i < sizeof(words) / sizeof(words[0]); i++)
    if (strcasecmp(s, words[i]) == 0)
      plain = false;
  yw_scalar(w, s, plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE, plain);
}

/* Emits nodes described by fmt, one character each, taking arguments in
 * order: '{' '}' a block mapping, '<' '>' a flow mapping, '[' ']' a block
 * sequence, '(' ')' a flow sequence, 's' a string, 'i' an int, 'b' a bool
 * (int), 'L' a string as a literal block; spaces are ignored. Keys are
 * strings like any other: lb_yaml_put(w, "{ss si}", "kind", "Job", "port", 80). */
void lb_yaml_put(struct lb_yaml *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (const char *p = fmt; *p; p++) {
    yaml_event_t ev;
    char num[32];
    switch (*p) {
    case '{':
    case '<':
      yaml_mapping_start_event_initialize(
          &ev, NULL, NULL, 1, *p == '{' ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
      yw_emit(w, &ev);
      break;
    case '}':
    case '>':
      yaml_mapping_end_event_initialize(&ev);
      yw_emit(w, &ev);
      break;
    case '[':
    case '(':
      yaml_sequence_start_event_initialize(
          &ev, NULL, NULL, 1, *p == '[' ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
      yw_emit(w, &ev);
      break;
    case ']':
    case ')':
      yaml_sequence_end_event_initialize(&ev);
      yw_emit(w, &ev);
      break;
    case 's':
      lb_yaml_str(w, va_arg(ap, const char *));
      break;
    case 'L':
      yw_scalar(w, va_arg(ap, const char *), YAML_LITERAL_SCALAR_STYLE, false);
      break;
    case 'i':
      snprintf(num, sizeof(num), "%d", va_arg(ap, int));
      yw_scalar(w, num, YAML_PLAIN_SCALAR_STYLE, true);
      break;
    case 'b':
      yw_scalar(w, va_arg(ap, int) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE, true);
      break;
    default:
      break;
    }
  }
  va_end(ap);
}

void lb_yaml_strf(struct lb_yaml *w, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(buf))
    w->failed = true;
  else
    lb_yaml_str(w, buf);
}

/* Starts a document (the first of the stream opens the stream). */
void lb_yaml_doc(struct lb_yaml *w, bool first) {
  yaml_event_t ev;
  if (first) {
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    yw_emit(w, &ev);
  }
  yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, first);
  yw_emit(w, &ev);
}

void lb_yaml_doc_end(struct lb_yaml *w) {
  yaml_event_t ev;
  yaml_document_end_event_initialize(&ev, 1);
  yw_emit(w, &ev);
}

int lb_yaml_open(struct lb_yaml *w, FILE *f) {
  memset(w, 0, sizeof(*w));
  if (!yaml_emitter_initialize(&w->em))
    return -ENOMEM;
  yaml_emitter_set_output_file(&w->em, f);
  yaml_emitter_set_unicode(&w->em, 1);
  yaml_emitter_set_width(&w->em, -1); /* never fold a command line */
  return 0;
}

int lb_yaml_close(struct lb_yaml *w) {
  yaml_event_t ev;
  yaml_stream_end_event_initialize(&ev);
  yw_emit(w, &ev);
  if (!w->failed && !yaml_emitter_flush(&w->em))
    w->failed = true;
  yaml_emitter_delete(&w->em);
  return w->failed ? -EIO : 0;
}
