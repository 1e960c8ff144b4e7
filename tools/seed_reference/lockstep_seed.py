"""Runs the seed's own TestManager with every random draw made fixed, so
that lbsim, given the same fixed draws through its test hooks, must produce
the very same requests, record for record (tests/test_sim_lockstep.c).

  randGamma(mean, ...)   -> max(1, int(mean))   (threads, processing time,
                            rtts, channel delays: all deterministic)
  request ticks          -> (7 * k) % total_ticks for the k-th request
  random.choice(clients) -> clients in turn; other choices -> the first
  client subsets         -> client c gets server c % servers (subset_size 1)
  resets                 -> Server 1 resets at the start of its tick 20 and
                            45 (reset probabilities 0 otherwise)

Two servers of 3 threads (mean processing 6, cold penalty 10), two clients,
60 ticks at 1.5 requests per server per tick: queues build, a reset demotes
requests, the PID weights follow, the cooldown drains. With `probing`, the
picker is WithProbes(PickRandom, probes_per_request=1) at 0.1 requests per
server per tick, so that channels are often empty when a request arrives and
the probe goes out at send time (RandomRound(1) and a sample of one channel
need no random draw). With `fastest`, the picker is FastestProbe() at 0.4
requests per server per tick: each request probes its one channel from the
client's tick and waits for the probe to come back (a shuffle of one channel
draws nothing that matters). Prints one CSV row per completed request.

usage: lockstep_seed.py MODEL_DIR [probing|fastest]   (MODEL_DIR from run_seed.sh --model-dir)
"""
import contextlib
import csv
import itertools
import sys

sys.path.insert(0, sys.argv[1])
import seed_model as m  # noqa: E402

TICKS = 60
RESET_TICKS = (20, 45)

m.randGamma = lambda mean, variance=1.5, min=1: max(1, int(mean))
_ticks = itertools.count()
m.random.randrange = lambda a, b: (7 * next(_ticks)) % b
_clients = itertools.count()
m.random.choice = lambda xs: (xs[next(_clients) % len(xs)]
                              if isinstance(xs, list) and xs and isinstance(xs[0], m.Client)
                              else xs[0])
_choices = m.random.choices
_client_index = [0]
m.random.choices = lambda pop, weights=None, k=1, **kw: (
    _choices(pop, weights=weights, k=k, **kw) if weights is not None
    else [pop[(_client_index[0] + i) % len(pop)] for i in range(k)])
_client_init = m.Client.__init__


def client_init(self, name, tm, servers):
    _client_index[0] = int(name.split()[1])
    _client_init(self, name, tm, servers)


_server_tick = m.Server.tick


def server_tick(self):
    if self.name == "Server 1" and self.test_manager.current_tick in RESET_TICKS:
        self.reset()
    _server_tick(self)


_completed = m.TestManager.RequestCompleted


def request_completed(self, request):
    """Adds what the seed's records leave out: the expected latency and the
    latency window of the report the request carried."""
    n = len(self.completed_requests)
    _completed(self, request)
    if len(self.completed_requests) > n:
        state = request.server_state
        e = state.expectedLatency()
        self.completed_requests[-1]["server_expected_latency"] = float("nan") if e is None else e
        lat = state.latencies.mean()
        self.completed_requests[-1]["server_latency_mean"] = float("nan") if lat is None else lat


m.Client.__init__ = client_init
m.Server.tick = server_tick
m.TestManager.RequestCompleted = request_completed

mode = sys.argv[2] if len(sys.argv) > 2 else ""
picker, rate = {"probing": (m.WithProbes(m.PickRandom, probes_per_request=1.0), 0.1),
                "fastest": (m.FastestProbe(), 0.4)}.get(mode, (m.PickRandom, 1.5))
tm = m.TestManager(channel_picker_factory=picker, servers=2, clients=2, subset_size=1,
                   total_ticks=TICKS, mean_requests_per_server_per_tick=rate,
                   mean_threads=3,
                   data_frequency=1, server_reset_probability=0, network_reset_probability=0)
with contextlib.redirect_stdout(sys.stderr):
    df = tm.runTest("lockstep")
cols = ["test_stage", "is_probe", "client", "server", "started_on_tick", "completed_on_tick", "tick_at_send",
        "tick_at_server_queue", "tick_at_processing", "tick_at_receive", "total_ticks",
        "picking_ticks", "send_ticks", "server_queue_ticks", "processing_ticks", "receive_ticks",
        "server_utilization_latest", "server_utilization_mean", "server_queries_per_tick_latest",
        "server_requests_in_flight_latest", "server_queued_requests_ewma", "server_pid_weight",
        "server_expected_latency", "server_latency_mean"]
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(cols)
for row in df[cols].itertuples(index=False):
    out.writerow(["" if isinstance(v, float) and v != v else v for v in row])
