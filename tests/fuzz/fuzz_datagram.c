/* fuzz_datagram: one datagram decoded, its numbers range-checked, and a
 * valid response's report converted as the client does. */
#include "framing.h"
#include "fuzz.h"
#include "wire_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Lb__Envelope *env = NULL;
  char err[256];
  if (lb_datagram_decode(data, size, &env, err, sizeof(err)) < 0)
    return 0;
  struct lb_wire_limits lim = {.max_ns = 8000000000, .channels = 40, .servers = 40};
  if (env->body_case == LB__ENVELOPE__BODY_REQUEST && env->request)
    lb_wire_check_request(env->request, &lim, err, sizeof(err));
  if (env->body_case == LB__ENVELOPE__BODY_RESPONSE && env->response &&
      lb_wire_check_response(env->response, &lim, err, sizeof(err)) == 0 && env->response->report) {
    struct lb_server_report rep;
    lb_report_from_wire(env->response->report, &rep);
  }
  lb__envelope__free_unpacked(env, NULL);
  return 0;
}
