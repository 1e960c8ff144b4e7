/* fuzz_frame: the TCP frame reader fed the input in pieces (the first byte
 * picks the piece size), every envelope it yields range-checked. */
#include "framing.h"
#include "fuzz.h"
#include "wire_check.h"

static void check_envelope(const Lb__Envelope *env) {
  struct lb_wire_limits lim = {.max_ns = LB_WIRE_MAX_NS, .channels = 40, .servers = 40};
  char err[256];
  if (env->body_case == LB__ENVELOPE__BODY_REQUEST && env->request)
    lb_wire_check_request(env->request, &lim, err, sizeof(err));
  if (env->body_case == LB__ENVELOPE__BODY_RESPONSE && env->response) {
    if (lb_wire_check_response(env->response, &lim, err, sizeof(err)) == 0 &&
        env->response->report) {
      struct lb_server_report rep;
      lb_report_from_wire(env->response->report, &rep);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t piece = (size_t)data[0] % 17 + 1;
  data++;
  size--;
  struct lb_frame_reader r;
  if (lb_frame_reader_init(&r, 4096) < 0)
    return 0;
  char err[256];
  for (size_t off = 0; off < size; off += piece) {
    size_t n = size - off < piece ? size - off : piece;
    if (lb_frame_reader_feed(&r, data + off, n, err, sizeof(err)) < 0)
      break;
    int rc;
    Lb__Envelope *env = NULL;
    while ((rc = lb_frame_reader_next(&r, &env, err, sizeof(err))) == 1) {
      check_envelope(env);
      lb__envelope__free_unpacked(env, NULL);
      env = NULL;
    }
    if (rc < 0)
      break;
  }
  lb_frame_reader_close(&r);
  return 0;
}
