"""Runs the seed's runTest (extracted by extract_seed.py into seed_model.py)
for some of its scenarios, RUNS times each with seeds SEED..SEED+RUNS-1, and
prints one summary CSV row per run as soon as it finishes. Runs go
round-robin over the scenarios (run 0 of each, then run 1, ...) so a sweep
cut short still covers every scenario.

usage: seed_driver.py MODEL_DIR RUNS SEED [--record-all STATS.csv] [FIELD=VALUE...] SCENARIO...

--record-all runs the seed with data_frequency=1 (recording changes nothing
in the simulation: no draw depends on it), prints the summary of the
records the scenario's own data_frequency keeps (so the summary rows are
the seed's as it is), and writes request_stats.py's per-run statistics of
every record to STATS.csv.

FIELD=VALUE overrides a TestManager field of every scenario (as lbsim's
--set), the value read as a Python literal (servers=4, data_frequency=1).
"""
import ast
import contextlib
import copy
import csv
import os
import random
import sys
import time

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # request_stats
import numpy as np  # noqa: E402
import seed_model  # noqa: E402
import request_stats  # noqa: E402

# --record-all: the full record of the last run, kept aside
_last_full = []


def record_all(every):
    """Wraps TestManager.runTest: record every completion, return only those
    a data_frequency of `every` would have kept."""
    original = seed_model.TestManager.runTest

    def run(self, scenario_name):
        self.data_frequency = 1
        df = original(self, scenario_name)
        _last_full[:] = [df]
        return df[df["completed_on_tick"] % every == 0].reset_index(drop=True)
    seed_model.TestManager.runTest = run

COLUMNS = ["algorithm", "run", "seed", "wall_s", "mean_latency", "stdev_latency",
           "p50.0_latency", "p90.0_latency", "p99.0_latency", "p99.9_latency",
           "mean_utilization", "stdev_utilization", "mean_stdev_utilization",
           "p50.0_utilization_ratio", "p90.0_utilization_ratio", "p99.0_utilization_ratio",
           "p99.9_utilization_ratio"]


def main():
    runs, seed = int(sys.argv[2]), int(sys.argv[3])
    rest = sys.argv[4:]
    stats_out = stats_file = None
    if rest[:1] == ["--record-all"]:
        stats_file = open(rest[1], "w", newline="")
        rest = rest[2:]
    sets = dict(a.split("=", 1) for a in rest if "=" in a)
    sets = {k: ast.literal_eval(v) for k, v in sets.items()}
    names = [a for a in rest if "=" not in a]
    every = None
    if stats_file is not None:
        every = sets.pop("data_frequency", seed_model.TestManager.data_frequency)
        record_all(every)
    for name in names:
        if name not in seed_model.scenarios:
            sys.exit(f"seed_driver: no scenario {name!r} in the seed; it has: "
                     + ", ".join(seed_model.scenarios))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    sys.stdout.flush()
    for r in range(runs):
        for name in names:
            s = seed + r
            random.seed(s)
            np.random.seed(s % 2**32)
            # The seed hands each run a pickled copy of its kwargs (process pool).
            kwargs = copy.deepcopy(seed_model.scenarios[name])
            kwargs.update(sets)
            t0 = time.monotonic()
            with contextlib.redirect_stdout(sys.stderr):
                rows = seed_model.runTest((name, kwargs))
            wall = time.monotonic() - t0
            if not rows:
                print(f"seed_driver: {name} run {r} failed", file=sys.stderr)
                continue
            row = dict(rows[0], run=r, seed=s, wall_s=round(wall, 1))
            out.writerow([row.get(c, "") for c in COLUMNS])
            if _last_full:
                st = {"algorithm": name, "run": r, "seed": s} | request_stats.stats(_last_full[0], every)
                if stats_out is None:
                    stats_out = csv.DictWriter(stats_file, fieldnames=list(st), lineterminator="\n")
                    stats_out.writeheader()
                stats_out.writerow(st)
                stats_file.flush()
            sys.stdout.flush()
            print(f"seed_driver: {name} run {r} seed {s}: {wall:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
