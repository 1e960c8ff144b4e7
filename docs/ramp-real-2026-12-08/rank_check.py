#!/usr/bin/env python3
"""Spearman's rho of the pickers' ranking by mean p99, per load, between
sweeps: the real ramp (sweep.csv, real side) against lbsim's with the same
seeds (sweep.csv, sim side), lbsim against itself on other seeds
(sim3-seed*.csv: 3 runs; sim20-seed*.csv: 20 runs), and the real ramp
against the 20-run rankings. Usage: python3 rank_check.py (in this folder)."""
import collections
import csv
import glob
from statistics import mean


def load(path, side):
    runs = collections.defaultdict(list)
    for row in csv.DictReader(open(path)):
        if row["side"] == side:
            runs[(row["load"], row["picker"])].append(float(row["p99.0_latency"]))
    return {k: mean(v) for k, v in runs.items()}


def rho(a, b):
    ra = {k: i for i, k in enumerate(sorted(a, key=a.get))}
    rb = {k: i for i, k in enumerate(sorted(b, key=b.get))}
    n = len(a)
    return 1 - 6 * sum((ra[k] - rb[k]) ** 2 for k in a) / (n * (n * n - 1))


def at(sweep, load):
    return {p: v for (l, p), v in sweep.items() if l == load}


sim, real = load("sweep.csv", "sim"), load("sweep.csv", "real")
sim3 = {f: load(f, "sim") for f in sorted(glob.glob("sim3-seed*.csv"))}
sim20 = [load(f, "sim") for f in sorted(glob.glob("sim20-seed*.csv"))]
print("load | real vs sim, same seeds | sim vs sim, other seeds (3 runs) |"
      " sim20 vs sim20 | real vs sim20")
for load_ in sorted({l for l, _ in sim}):
    print(load_, "|", f"{rho(at(sim, load_), at(real, load_)):.2f}", "|",
          " ".join(f"{rho(at(sim, load_), at(s, load_)):.2f}" for s in sim3.values()), "|",
          f"{rho(at(sim20[0], load_), at(sim20[1], load_)):.2f}", "|",
          " ".join(f"{rho(at(real, load_), at(s, load_)):.2f}" for s in sim20))
