"""Compares lbsim's summary rows with the seed's (run_seed.sh) scenario by
scenario: for each figure, lbsim's mean across runs against the seed's mean
+- 2 standard errors (stdev / sqrt(runs)). Prints a Markdown table. With few
seed runs the standard error is itself a rough estimate, so a second column
applies Welch's t-test (two-sided, 5%) to the two samples.

usage: compare.py SEED.csv LBSIM.csv [SCENARIO...]
"""
import csv
import math
import sys

FIGURES = ["mean_latency", "p50.0_latency", "p90.0_latency", "p99.0_latency",
           "mean_utilization"]


def load(path):
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["algorithm"], []).append(row)
    return rows


def stats(values):
    values = [v for v in values if not math.isnan(v)]
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan"), n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, sd / math.sqrt(n), n


def welch(a, b):
    """Two-sided p of Welch's t-test; NaN without scipy or with < 2 runs."""
    a = [v for v in a if not math.isnan(v)]
    b = [v for v in b if not math.isnan(v)]
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    try:
        from scipy.stats import ttest_ind
    except ImportError:
        return float("nan")
    return float(ttest_ind(a, b, equal_var=False).pvalue)


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def main():
    seed, sim = load(sys.argv[1]), load(sys.argv[2])
    names = sys.argv[3:] or [n for n in seed if n in sim]
    print("| scenario | figure | seed mean ± 2 SE (runs) | lbsim mean ± 2 SE (runs) "
          "| within 2 SE | Welch p |")
    print("| --- | --- | --- | --- | --- | --- |")
    bad = 0
    for name in names:
        for fig in FIGURES:
            sm, sse, sn = stats([num(r[fig]) for r in seed.get(name, [])])
            lm, lse, ln = stats([num(r[fig]) for r in sim.get(name, [])])
            ok = abs(lm - sm) <= 2 * sse if not math.isnan(sse) else None
            bad += ok is False
            mark = {True: "yes", False: "**no**", None: "n/a"}[ok]
            p = welch([num(r[fig]) for r in seed.get(name, [])],
                      [num(r[fig]) for r in sim.get(name, [])])
            ptxt = "n/a" if math.isnan(p) else (f"**{p:.3f}**" if p < 0.05 else f"{p:.3f}")
            print(f"| {name} | {fig} | {sm:.2f} ± {2 * sse:.2f} ({sn}) | "
                  f"{lm:.2f} ± {2 * lse:.2f} ({ln}) | {mark} | {ptxt} |")
    print(f"\n{bad} figure(s) outside the seed's mean ± 2 SE", file=sys.stderr)


if __name__ == "__main__":
    main()
