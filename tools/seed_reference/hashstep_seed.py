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
def sm(z):
    z = (z + 0x9e3779b97f4a7c15) & M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)
def key(kind, ent, k): return sm((((kind * 1000003 + ent) * 1000003) + k) & M64)
def unif(kind, ent, k): return ((key(kind, ent, k) >> 11) + 0.5) / 2.0**53
def hgamma(mean, variance, u, mn=1):
    a = ((variance * mean) - mn) / variance
    return int(G.ppf(u, a) + mn)
PICKER = sys.argv[2]
S, C, K, T = [int(x) for x in sys.argv[3:7]]
RATE = float(sys.argv[7])
ctr = {}
def nxt(kind, ent):
    k = ctr.get((kind, ent), 0); ctr[(kind, ent)] = k + 1; return k
CTX = [None]
def rg(mean, variance=1.5, min=1):
    kind, ent = CTX[0]
    return hgamma(mean, variance, unif(kind, ent, nxt(kind, ent)), min)
m.randGamma = rg
def idx(name): return int(name.split()[1])
_sreset = m.Server.reset
def sreset(self):
    CTX[0] = (1, idx(self.name)); _sreset(self)
m.Server.reset = sreset
_stick = m.Server.tick
def stick(self):
    CTX[0] = (6, idx(self.name)); _stick(self)
m.Server.tick = stick
cur = [0, 0]
_cinit = m.Client.__init__
def cinit(self, name, tm, servers):
    cur[0] = idx(name); cur[1] = 0; _cinit(self, name, tm, servers)
m.Client.__init__ = cinit
_chinit = m.Channel.__init__
def chinit(self, client, server, tm):
    self.gidx = cur[0] * K + cur[1]; cur[1] += 1
    CTX[0] = (2, self.gidx); _chinit(self, client, server, tm)
m.Channel.__init__ = chinit
_send = m.Channel.send
def send(self, request):
    CTX[0] = (7, self.gidx); _send(self, request)
m.Channel.send = send
_recv = m.Channel.receive
def recv(self, request, st):
    CTX[0] = (8, self.gidx); _recv(self, request, st)
m.Channel.receive = recv
_choices = m.random.choices
def choices(pop, weights=None, k=1, **kw):
    if weights is None and pop and isinstance(pop[0], m.Server):
        return [pop[key(3, cur[0], i) % len(pop)] for i in range(k)]
    return _choices(pop, weights=weights, k=k, **kw)
m.random.choices = choices
rr = [0]
def randrange(a, b):
    k = rr[0]; rr[0] += 1; return key(4, 0, k) % b
m.random.randrange = randrange
_choice = m.random.choice
cc = [0]
def choice(xs):
    if isinstance(xs, list) and xs and isinstance(xs[0], m.Client):
        j = cc[0]; cc[0] += 1; return xs[key(5, 0, j) % len(xs)]
    return _choice(xs)
m.random.choice = choice
LOG = collections.defaultdict(lambda: {'S': [], 'O': []})
picker = {"first": m.PickFirst, "fastest_probe": m.FastestProbe(),
          "fastest_probe2": m.Subset(m.FastestProbe(), subset_size=2)}[PICKER]
if len(sys.argv) > 8:
    c = None
    for line in open(sys.argv[8]):
        f = line.split()
        if f[0] == 'P':
            c = int(f[1])
        else:
            LOG[c][f[0]].append([int(x) for x in f[1:]])
    def subset_call(self, request, client, channels, tm):
        idx = LOG[int(client.split()[1])]['S'].pop(0)
        return self.channel_picker_factory(request, client, [channels[i] for i in idx], tm)
    m.Subset.__call__ = subset_call
CURC = [None]
_ctick = m.Client.tick
def ctick(self):
    CURC[0] = int(self.name.split()[1]); _ctick(self)
m.Client.tick = ctick
def shuffle(xs):
    if CURC[0] is None or not LOG[CURC[0]]['O']:
        return list(xs)
    return [xs[i] for i in LOG[CURC[0]]['O'].pop(0)]
m.shuffle = shuffle
tm = m.TestManager(channel_picker_factory=picker, servers=S, clients=C, subset_size=K,
                   total_ticks=T, mean_requests_per_server_per_tick=RATE, data_frequency=1,
                   server_reset_probability=0, network_reset_probability=0)
with contextlib.redirect_stdout(sys.stderr):
    df = tm.runTest('hs')
cols = ['client', 'server', 'is_probe', 'started_on_tick', 'completed_on_tick', 'total_ticks', 'picking_ticks',
        'send_ticks', 'server_queue_ticks', 'processing_ticks', 'receive_ticks']
df[cols].to_csv(sys.stdout, index=False)
