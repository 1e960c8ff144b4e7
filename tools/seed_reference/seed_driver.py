"""Runs the seed's runTest (extracted by extract_seed.py into seed_model.py)
for some of its scenarios, RUNS times each with seeds SEED..SEED+RUNS-1, and
prints one summary CSV row per run as soon as it finishes. Runs go
round-robin over the scenarios (run 0 of each, then run 1, ...) so a sweep
cut short still covers every scenario.

usage: seed_driver.py MODEL_DIR RUNS SEED [FIELD=VALUE...] SCENARIO...

FIELD=VALUE overrides a TestManager field of every scenario (as lbsim's
--set), the value read as a Python literal (servers=4, data_frequency=1).
"""
import ast
import contextlib
import copy
import csv
import random
import sys
import time

sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import seed_model  # noqa: E402

COLUMNS = ["algorithm", "run", "seed", "wall_s", "mean_latency", "stdev_latency",
           "p50.0_latency", "p90.0_latency", "p99.0_latency", "p99.9_latency",
           "mean_utilization", "stdev_utilization", "mean_stdev_utilization",
           "p50.0_utilization_ratio", "p90.0_utilization_ratio", "p99.0_utilization_ratio",
           "p99.9_utilization_ratio"]


def main():
    runs, seed = int(sys.argv[2]), int(sys.argv[3])
    sets = dict(a.split("=", 1) for a in sys.argv[4:] if "=" in a)
    sets = {k: ast.literal_eval(v) for k, v in sets.items()}
    names = [a for a in sys.argv[4:] if "=" not in a]
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
            sys.stdout.flush()
            print(f"seed_driver: {name} run {r} seed {s}: {wall:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
