#!/usr/bin/env bash
# Runs the seed notebook's own simulator (its Python, extracted at run time
# from /work/shared/seed, never stored here) for some of its scenarios and
# prints the seed's runTest summary, one CSV row per run.
#
#   tools/seed_reference/run_seed.sh [--runs N] [--seed S] [--set FIELD=VALUE]...
#                                    [--notebook FILE] SCENARIO...
#   tools/seed_reference/run_seed.sh --model-dir DIR   (extract and stub into DIR, then stop)
#
# Scenario names are the seed's keys (Random, WeightedMeanUtilization, ...).
# --set overrides a TestManager field (a Python literal), as lbsim's --set.
# --record-all STATS.csv also writes request_stats.py's per-run statistics of
# every completed request (the summary rows stay the seed's own).
# Runs use seeds S..S+N-1 (Python's random and numpy's global generator);
# they go round-robin over the scenarios. Needs Debian's /usr/bin/python3 with
# python3-numpy, python3-pandas and python3-scipy. Each run takes 20-90 s:
# run it under nice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=1
seed=1
notebook=${LB_SEED_NOTEBOOK:-/work/shared/seed/000_9d0b91919d02c1e1.txt}
python=${LB_SEED_PYTHON:-/usr/bin/python3}
names=()
sets=()
record_all=()
model_dir=
while [ $# -gt 0 ]; do
  case "$1" in
  --runs) runs=$2; shift 2 ;;
  --seed) seed=$2; shift 2 ;;
  --notebook) notebook=$2; shift 2 ;;
  --set) sets+=("$2"); shift 2 ;;
  --record-all) record_all=(--record-all "$2"); shift 2 ;;
  --model-dir) model_dir=$2; shift 2 ;;
  -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
  -*) echo "run_seed.sh: unknown option $1" >&2; exit 2 ;;
  *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -gt 0 ] || [ -n "$model_dir" ] || { echo "run_seed.sh: name at least one scenario" >&2; exit 2; }
[ -r "$notebook" ] || { echo "run_seed.sh: cannot read the seed notebook $notebook" >&2; exit 1; }

if [ -n "$model_dir" ]; then
  dir=$model_dir
  mkdir -p "$dir"
else
  dir=$(mktemp -d /tmp/lb_seed_ref.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
fi
"$python" "$here/extract_seed.py" "$notebook" "$dir/seed_model.py"
# Stubs for the notebook's Colab-only and plotting imports.
mkdir -p "$dir/plotly" "$dir/tqdm" "$dir/google/colab"
: >"$dir/kaleido.py"
: >"$dir/gspread.py"
: >"$dir/plotly/__init__.py"
: >"$dir/plotly/express.py"
echo 'def make_subplots(*a, **k): return None' >"$dir/plotly/subplots.py"
: >"$dir/tqdm/__init__.py"
cat >"$dir/tqdm/notebook.py" <<'PY'
def trange(*args, desc=None, **kwargs):
    return range(*args)
def tqdm(it=None, *args, **kwargs):
    return it
PY
: >"$dir/google/__init__.py"
echo 'def default(*a, **k): return None, None' >"$dir/google/auth.py"
echo 'auth = None' >"$dir/google/colab/__init__.py"
[ -z "$model_dir" ] || exit 0
"$python" "$here/seed_driver.py" "$dir" "$runs" "$seed" ${record_all[@]+"${record_all[@]}"} ${sets[@]+"${sets[@]}"} "${names[@]}"
