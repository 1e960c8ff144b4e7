"""Runs the seed's own TestManager with every random draw replaced by a hash
of (kind, entity, counter), so that lbsim, given the same draws through its
test hooks (tests/test_sim_hashstep.c), must produce the very same records
on a fleet of any size: lockstep with random-looking draws rather than
fixed ones.

  uniform u(kind, entity, k) = (splitmix64(key) >> 11 + 0.5) / 2^53,
      key = (kind * 1000003 + entity) * 1000003 + k  (mod 2^64)
  randGamma(mean, var)  -> int(gamma.ppf(u, a=(var*mean-1)/var) + 1), from
      kind 1 (server parameters, entity server), 2 (channel rtt, entity
      client*K+slot), 6 (processing, entity server), 7 / 8 (send / receive
      delay, entity client*K+slot), k counting that entity's draws
  client subsets        -> server key(3, client, i) % S
  request ticks         -> key(4, 0, k) % T for the k-th request
  random.choice(clients)-> key(5, 0, j) % C for the j-th arrival
  resets                -> none (probabilities 0)
  shuffle               -> identity, or the orders in LOG
With LOG (lines "P client", "S i j", "O i j" from an instrumented lbsim),
Subset's draws and FastestProbe's shuffles replay lbsim's, per client in
order. Prints the records (data_frequency 1) as CSV.

usage: hashstep_seed.py MODEL_DIR PICKER S C K T RATE [LOG]
       PICKER: first | fastest_probe | fastest_probe2 (Subset(FastestProbe(), 2), needs LOG)
"""
import collections
import contextlib
import sys
sys.path.insert(0, sys.argv[1])
import seed_model as m  # noqa: E402
from scipy.stats import gamma as G  # noqa: E402
M64 = (1 << 64) - 1


def splitmix64(z):
    z = (z + 0x9e3779b97f4a7c15) & M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)


def key(kind, entity, k):
    return splitmix64((((kind * 1000003 + entity) * 1000003) + k) & M64)


def uniform(kind, entity, k):
    return ((key(kind, entity, k) >> 11) + 0.5) / 2.0**53


def index(name):
    """'Server 3', 'Client 3' -> 3"""
    return int(name.split()[1])


PICKER = sys.argv[2]
S, C, K, T = [int(x) for x in sys.argv[3:7]]
RATE = float(sys.argv[7])

# randGamma: which entity draws is set by the method that calls it.
drawn = collections.Counter()  # draws so far per (kind, entity)
drawer = [None]                # (kind, entity) of the method running


def rand_gamma(mean, variance=1.5, min=1):
    kind, entity = drawer[0]
    k = drawn[(kind, entity)]
    drawn[(kind, entity)] += 1
    a = ((variance * mean) - min) / variance
    return int(G.ppf(uniform(kind, entity, k), a) + min)


def drawing_as(kind, entity_of, method):
    """method, with its randGamma draws made as (kind, entity_of(self))."""
    def wrapped(self, *args):
        drawer[0] = (kind, entity_of(self))
        return method(self, *args)
    return wrapped


m.randGamma = rand_gamma
m.Server.reset = drawing_as(1, lambda s: index(s.name), m.Server.reset)
m.Server.tick = drawing_as(6, lambda s: index(s.name), m.Server.tick)
m.Channel.send = drawing_as(7, lambda ch: ch.slot_index, m.Channel.send)
m.Channel.receive = drawing_as(8, lambda ch: ch.slot_index, m.Channel.receive)

# Channels are made in Client.__init__, slot by slot: entity client * K + slot.
constructing = [0, 0]  # client, next slot
_client_init = m.Client.__init__
_channel_init = m.Channel.__init__


def client_init(self, name, tm, servers):
    constructing[:] = [index(name), 0]
    _client_init(self, name, tm, servers)


def channel_init(self, client, server, tm):
    self.slot_index = constructing[0] * K + constructing[1]
    constructing[1] += 1
    drawer[0] = (2, self.slot_index)
    _channel_init(self, client, server, tm)


m.Client.__init__ = client_init
m.Channel.__init__ = channel_init

# Subsets, request ticks and each arrival's client.
_choices, _choice = m.random.choices, m.random.choice
arrivals = collections.Counter()


def choices(pop, weights=None, k=1, **kw):
    if weights is None and pop and isinstance(pop[0], m.Server):
        return [pop[key(3, constructing[0], i) % len(pop)] for i in range(k)]
    return _choices(pop, weights=weights, k=k, **kw)


def randrange(a, b):
    arrivals["tick"] += 1
    return key(4, 0, arrivals["tick"] - 1) % b


def choice(xs):
    if isinstance(xs, list) and xs and isinstance(xs[0], m.Client):
        arrivals["client"] += 1
        return xs[key(5, 0, arrivals["client"] - 1) % len(xs)]
    return _choice(xs)


m.random.choices, m.random.randrange, m.random.choice = choices, randrange, choice

# The picker's own draws: none (identity shuffle), or replayed from LOG.
LOG = collections.defaultdict(lambda: {"S": [], "O": []})
picker = {"first": m.PickFirst, "fastest_probe": m.FastestProbe(),
          "fastest_probe2": m.Subset(m.FastestProbe(), subset_size=2)}[PICKER]
if len(sys.argv) > 8:
    client = None
    for line in open(sys.argv[8]):
        f = line.split()
        if f[0] == "P":
            client = int(f[1])
        else:
            LOG[client][f[0]].append([int(x) for x in f[1:]])

    def subset_call(self, request, client, channels, tm):
        slots = LOG[index(client)]["S"].pop(0)
        return self.channel_picker_factory(request, client, [channels[i] for i in slots], tm)
    m.Subset.__call__ = subset_call

ticking = [None]  # the client whose tick runs (FastestProbe shuffles then)
_client_tick = m.Client.tick


def client_tick(self):
    ticking[0] = index(self.name)
    _client_tick(self)


def shuffle(xs):
    orders = LOG[ticking[0]]["O"] if ticking[0] is not None else None
    return [xs[i] for i in orders.pop(0)] if orders else list(xs)


m.Client.tick = client_tick
m.shuffle = shuffle

tm = m.TestManager(channel_picker_factory=picker, servers=S, clients=C, subset_size=K,
                   total_ticks=T, mean_requests_per_server_per_tick=RATE, data_frequency=1,
                   server_reset_probability=0, network_reset_probability=0)
with contextlib.redirect_stdout(sys.stderr):
    df = tm.runTest("hs")
cols = ["client", "server", "is_probe", "started_on_tick", "completed_on_tick", "total_ticks",
        "picking_ticks", "send_ticks", "server_queue_ticks", "processing_ticks", "receive_ticks"]
df[cols].to_csv(sys.stdout, index=False)
