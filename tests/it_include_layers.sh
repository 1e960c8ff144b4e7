#!/usr/bin/env bash
# The layering of DESIGN.md, read off the #include lines:
#   - common/ includes nothing from a driver or the harness;
#   - net/ (the HTTP server, Prometheus exposition) only common/;
#   - sim/ and lbclient/ (and lbserver/) include nothing from another
#     driver or the harness (the daemons may use net/);
#   - inside harness/, the modules (NAME.c + NAME.h) include each other
#     without a loop (tsort finds one);
#   - no .c outside tests/ is over 800 lines unless its first 15 lines say
#     why, in a line with "Over 800 lines".
# No build needed: it reads the sources.
set -euo pipefail
S=${LB_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$S"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Where a quoted header lives: the first top-level folder that has it.
declare -A home=()
for d in common common/pickers net sim lbserver lbclient harness; do
  for h in "$d"/*.h; do
    [[ -e $h ]] || continue
    b=${h##*/}
    [[ -n ${home[$b]:-} ]] || home[$b]=${d%%/*}
  done
done

# Known departures, each to be removed by the change that ends it:
# "FOLDER HEADER". None now.
allowed=()

# includes DIR: "FILE HEADER" per quoted #include in DIR's sources.
includes() {
  grep -Ho '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"' "$1"/*.c "$1"/*.h 2>/dev/null |
    sed -E 's/^([^:]*):.*"([^"]*)"/\1 \2/'
}

check_layer() { # DIR ALLOWED-HOMES...
  local dir=$1 file hdr h where ok
  shift
  while read -r file hdr; do
    h=${hdr##*/}
    where=${home[$h]:-}
    [[ -z $where ]] && continue # system or generated header (lb.pb-c.h)
    ok=0
    for a in "$@"; do [[ $where == "$a" ]] && ok=1; done
    for a in "${allowed[@]}"; do [[ "$dir $h" == "$a" ]] && ok=1; done
    ((ok)) || bad "$file includes $hdr from $where/"
  done < <(includes "$dir")
}

echo "== drivers include only common/ and their own folder"
check_layer common common
check_layer net net common
check_layer sim sim common
check_layer lbclient lbclient net common
check_layer lbserver lbserver net common

echo "== harness/ modules include each other without a loop"
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
while read -r file hdr; do
  h=${hdr##*/}
  [[ ${home[$h]:-} == harness ]] || continue
  from=${file##*/}
  from=${from%.*}
  to=${h%.h}
  [[ $from == "$to" ]] && continue
  echo "$from $to" >>"$edges"
done < <(includes harness)
[[ -s $edges ]] || bad "no include edges found in harness/ (is this the source tree?)"
if ! out=$(tsort "$edges" 2>&1 >/dev/null); then
  bad "harness/ has an include loop:"$'\n'"$out"
elif [[ -n $out ]]; then
  bad "harness/ has an include loop:"$'\n'"$out"
fi

echo "== no .c over 800 lines without its reason at the top"
LONG_MAX=800
while IFS= read -r -d '' f; do
  n=$(wc -l <"$f")
  ((n > LONG_MAX)) || continue
  head -n 15 "$f" | grep -q 'Over 800 lines' ||
    bad "${f#./} has $n lines (over $LONG_MAX) and no reason at its top (a line with 'Over 800 lines' in its first 15)"
done < <(find common net sim lbserver lbclient harness -name '*.c' -print0 | sort -z)

((fail == 0)) && echo "include layers: ok"
exit $fail
