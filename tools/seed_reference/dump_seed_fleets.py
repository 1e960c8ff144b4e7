"""Writes the fleets the seed's own code draws for a scenario and seeds, in
lbsim's fleet format (common/fleet_file.h), so lbsim can run on the very
fleets of the seed's runs (lbsim --fleet).

For each seed S it does what seed_driver.py and the seed's runTest do up to
the first tick: random.seed(S), numpy.random.seed(S), the scenario's
TestManager, its Servers (threads, processing time, rtt) and Clients
(subsets and channel means), and writes them; nothing else is drawn, so
each fleet is the one the seed's run with that seed had.

usage: dump_seed_fleets.py MODEL_DIR SCENARIO [FIELD=VALUE...] SEED...
"""
import ast
import copy
import random
import sys

if len(sys.argv) < 4:
    sys.exit(__doc__)
sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import seed_model  # noqa: E402


def index(name):
    """'Server 3' -> 3"""
    return int(name.split()[1])


def main():
    name = sys.argv[2]
    rest = sys.argv[3:]
    sets = {k: ast.literal_eval(v) for k, v in (a.split("=", 1) for a in rest if "=" in a)}
    seeds = [int(a) for a in rest if "=" not in a]
    if name not in seed_model.scenarios:
        sys.exit(f"dump_seed_fleets: no scenario {name!r} in the seed")
    out = sys.stdout
    for s in seeds:
        random.seed(s)
        np.random.seed(s % 2**32)
        kwargs = copy.deepcopy(seed_model.scenarios[name])
        kwargs.update(sets)
        tm = seed_model.TestManager(**kwargs)
        servers = [seed_model.Server(f"Server {n}", tm) for n in range(tm.servers)]
        tm.servers_impl = servers
        clients = [seed_model.Client(f"Client {n}", tm, servers) for n in range(tm.clients)]
        out.write(f"fleet {name} seed {s}\n")
        for sv in servers:
            out.write(f"server {sv.threads} {sv.mean_processing_time} {sv.mean_rtt}\n")
        for c in clients:
            out.write("client " + " ".join(f"{index(ch.server.name)}:{ch.mean_ticks!r}"
                                           for ch in c.channels) + "\n")


if __name__ == "__main__":
    main()
