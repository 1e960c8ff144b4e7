"""Per-run statistics of per-request records (the seed's columns), the same
for the seed's own runs (seed_driver.py --record-all) and for lbsim's
(--requests-csv with --set data_frequency=1), so that the two can be
compared component by component rather than only through the summary.

usage: request_stats.py [--every N] ALGORITHM RUN CSV...   (one row per CSV)
       compare:  request_stats.py --compare SEED_STATS.csv LBSIM_STATS.csv

Each row: the request records that count in the seed's latency figures
(not probes, not WARMING), their mean total ticks and its parts, the same
for the records a data_frequency of N (default 30) keeps, the number of
COOLING records and the last completion tick, and the mean utilization of
the RUNNING records.
"""
import csv
import math
import sys

from compare import stats as mean_se  # mean, standard error, runs

PARTS = ["total_ticks", "ticks_between_start_and_completion", "picking_ticks",
         "send_ticks", "server_queue_ticks", "processing_ticks", "receive_ticks"]


def stats(df, every=30):
    """df: a pandas DataFrame of one run's records, every completion kept."""
    out = {}
    req = df[(~df["is_probe"].astype(bool)) & (df["test_stage"] != "WARMING")]
    out["n"] = len(req)
    for p in PARTS:
        out[f"mean_{p}"] = req[p].mean()
    kept = req[req["completed_on_tick"] % every == 0]
    out["n_kept"] = len(kept)
    out["mean_total_kept"] = kept["total_ticks"].mean()
    out["n_kept_cooling"] = int((kept["test_stage"] == "COOLING").sum())
    out["n_cooling"] = int((req["test_stage"] == "COOLING").sum())
    out["last_completion"] = int(df["completed_on_tick"].max())
    out["p_queue_gt0"] = float((req["server_queue_ticks"] > 0).mean())
    out["p_processing_gt10"] = float((req["processing_ticks"] > 10).mean())
    run = df[df["test_stage"] == "RUNNING"]
    out["mean_utilization_latest"] = run["server_utilization_latest"].mean()
    probes = df[df["is_probe"].astype(bool)]
    out["n_probes"] = len(probes)
    out["mean_probe_total"] = probes["total_ticks"].mean() if len(probes) else float("nan")
    return out


def compare(seed_path, sim_path):
    def load(path):
        rows = {}
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                rows.setdefault(row["algorithm"], []).append(row)
        return rows
    seed, sim = load(seed_path), load(sim_path)
    print("| scenario | statistic | seed mean ± 2 SE (runs) | lbsim mean ± 2 SE (runs) |")
    print("| --- | --- | --- | --- |")
    for name in [n for n in seed if n in sim]:
        for key in seed[name][0]:
            if key in ("algorithm", "run", "seed"):
                continue
            a = mean_se([float(r[key]) for r in seed[name]])
            b = mean_se([float(r[key]) for r in sim[name] if key in r])
            flag = "" if math.isnan(a[1]) or abs(a[0] - b[0]) <= 2 * math.hypot(a[1], b[1]) else " **"
            print(f"| {name} | {key} | {a[0]:.4g} ± {2 * a[1]:.2g} ({a[2]}) | "
                  f"{b[0]:.4g} ± {2 * b[1]:.2g} ({b[2]}){flag} |")


def main():
    args = sys.argv[1:]
    if args and args[0] == "--compare":
        compare(args[1], args[2])
        return
    every = 30
    if args and args[0] == "--every":
        every, args = int(args[1]), args[2:]
    import pandas as pd
    algorithm, run, paths = args[0], int(args[1]), args[2:]
    w = None
    for i, path in enumerate(paths):
        df = pd.read_csv(path)
        df["is_probe"] = df["is_probe"].astype(str) == "True"
        row = {"algorithm": algorithm, "run": run + i} | stats(df, every)
        if w is None:
            w = csv.DictWriter(sys.stdout, fieldnames=list(row), lineterminator="\n")
            w.writeheader()
        w.writerow(row)


if __name__ == "__main__":
    main()
