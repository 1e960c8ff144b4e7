/* orca_text: the server report as ORCA's `endpoint-load-metrics` HTTP header
 * in its TEXT form, the native HTTP encoding Envoy's ORCA parser reads
 * (source/common/orca/orca_parser.cc): the prefix "TEXT ", then
 * comma-separated `name:value` pairs, whitespace around each pair ignored:
 *
 *   TEXT cpu_utilization:0.42, rps_fractional:12.5, eps:0,
 *        named_metrics.requests_in_flight.latest:3, ...
 *
 * The three standard ORCA fields carry the report's ORCA triple
 * (orca_utilization as a fraction, orca_qps, orca_eps); every other field
 * of struct lb_server_report travels as a named metric named after its
 * protobuf field (proto/lb.proto), so the header carries exactly what the
 * binary protocol's ServerReport does:
 *
 *   named_metrics.<stat>.valid|latest|mean|ewma  for each of utilization,
 *       queries_per_tick, requests_in_flight, queued_requests, latency
 *   named_metrics.has_expected_latency, .expected_latency, .pid_weight,
 *   named_metrics.server, .threads, .resets,
 *   named_metrics.has_probe_answer, .probe_rif, .probe_latency
 *
 * Booleans are 0 or 1; server, threads and resets are whole numbers.
 * Numbers are printed with the fewest digits that read back to the same
 * double, so a report survives format -> parse bit for bit.
 *
 * The parser is for headers from a peer: each number must be a plain decimal
 * (no hex, no "nan"/"inf"), finite and bounded as common/wire_check checks
 * the binary report, and named; a duplicate name, an empty pair or an
 * unknown standard field (Envoy refuses these too) is an error. Named
 * metrics it does not know are skipped (a foreign server may add its own);
 * absent fields stay zero, and a stat is valid when its `.valid` says so or,
 * with no `.valid`, when any of its numbers is given. */
#ifndef LB_ORCA_TEXT_H
#define LB_ORCA_TEXT_H

#include <stddef.h>

#include "report.h"

#define LB_ORCA_HEADER "endpoint-load-metrics"
#define LB_ORCA_TEXT_PREFIX "TEXT "
/* Longest header value format writes is about 1 KiB; the parser refuses
 * values longer than this. */
#define LB_ORCA_TEXT_MAX 4096

/* Writes the header value (NUL-terminated) into buf. Returns its length, or
 * -EMSGSIZE when cap is too small (LB_ORCA_TEXT_MAX always suffices). */
int lb_orca_text_format(const struct lb_server_report *r, char *buf, size_t cap);

/* Parses a header value of len bytes (not necessarily NUL-terminated) into
 * *out (zeroed first). 0, or -EINVAL (malformed) / -ERANGE (a number out of
 * range) / -EMSGSIZE (longer than LB_ORCA_TEXT_MAX) with the field and the
 * reason in err. */
int lb_orca_text_parse(const char *value, size_t len, struct lb_server_report *out, char *err,
                       size_t errlen);

#endif
