"""The seed's runs against lbsim's on the same fleets (compare_paired.sh):
run r of lbsim's scenario ran on the fleet of the seed's run r mod F (F: the
seed's runs of that scenario, in the seed CSV's order). Per figure: the
seed's mean +- 2 SE; lbsim's mean on those fleets (each fleet's lbsim runs
averaged first) +- 2 SE; and the paired difference, seed - lbsim fleet by
fleet, +- 2 SE with its paired t-test p. Holding the fleet fixed takes out
the run-to-run spread that comes from the fleet (most of it: a fleet may
hold a few overloaded servers), so the difference that is left is the two
programs'. Prints a Markdown table.

usage: compare_paired.py SEED.csv LBSIM.csv
"""
import math
import sys

from compare import FIGURES, load, num, stats


def paired_p(diffs):
    if len(diffs) < 2:
        return float("nan")
    try:
        from scipy.stats import ttest_1samp
    except ImportError:
        return float("nan")
    return float(ttest_1samp(diffs, 0.0).pvalue)


def main():
    seed, sim = load(sys.argv[1]), load(sys.argv[2])
    print("| scenario | figure | seed mean ± 2 SE (runs) | lbsim on the same fleets ± 2 SE "
          "(fleets × runs each) | within 2 SE | seed − lbsim, fleet by fleet ± 2 SE | paired p |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    bad = 0
    for name in [n for n in seed if n in sim]:
        fleets = len(seed[name])
        for fig in FIGURES:
            per_fleet = [[] for _ in range(fleets)]
            for r in sim[name]:
                per_fleet[int(r["run"]) % fleets].append(num(r[fig]))
            seed_v = [num(r[fig]) for r in seed[name]]
            lb_v = [stats(v)[0] for v in per_fleet]
            diffs = [a - b for a, b in zip(seed_v, lb_v) if not (math.isnan(a) or math.isnan(b))]
            sm, sse, sn = stats(seed_v)
            lm, lse, ln = stats(lb_v)
            dm, dse, _ = stats(diffs)
            ok = abs(lm - sm) <= 2 * sse if not math.isnan(sse) else None
            bad += ok is False
            mark = {True: "yes", False: "**no**", None: "n/a"}[ok]
            p = paired_p(diffs)
            ptxt = "n/a" if math.isnan(p) else (f"**{p:.3f}**" if p < 0.05 else f"{p:.3f}")
            print(f"| {name} | {fig} | {sm:.2f} ± {2 * sse:.2f} ({sn}) | {lm:.2f} ± {2 * lse:.2f} "
                  f"({ln} × {len(sim[name]) // max(fleets, 1)}) | {mark} | {dm:+.2f} ± "
                  f"{2 * dse:.2f} | {ptxt} |")
    print(f"\n{bad} figure(s) outside the seed's mean ± 2 SE", file=sys.stderr)


if __name__ == "__main__":
    main()
