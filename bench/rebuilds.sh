#!/usr/bin/env bash
# Rebuild times, as medians of many rounds: one run of bench/run.sh is too
# noisy for rebuilds that take a few tenths of a second.
#
#   bench/rebuilds.sh ROUNDS BIN:SITE [BIN:SITE ...]
#   bench/rebuilds.sh 21 target/release/procdoc:target/bench/n1000
#   bench/rebuilds.sh 21 /tmp/old-procdoc:/tmp/n1000-old target/release/procdoc:/tmp/n1000-new
#
# Each SITE is a built corpus (bench/gen_corpus.py, then a build) that only
# its BIN uses, since the build cache belongs to one procdoc. Round after
# round, for each BIN in turn: a build with no change, then a build after
# appending a sentence to step 4 of the first procedure (the edit is not
# timed). Prints the median and the fastest of each, in seconds of wall
# time. The edited procedure is put back at the end.
set -euo pipefail

rounds=${1:?rounds}
shift
[ $# -gt 0 ] || { echo "usage: $0 ROUNDS BIN:SITE ..." >&2; exit 2; }

declare -A noop edit saved
for pair in "$@"; do
  site=${pair#*:}
  file=$(find "$site/procedures" -mindepth 2 -name index.md | sort | sed -n 1p)
  [ -n "$file" ] || { echo "no procedure in $site" >&2; exit 2; }
  saved[$pair]=$(mktemp)
  cp "$file" "${saved[$pair]}"
done
restore() {
  for pair in "${!saved[@]}"; do
    site=${pair#*:}
    file=$(find "$site/procedures" -mindepth 2 -name index.md | sort | sed -n 1p)
    cp "${saved[$pair]}" "$file" && rm -f "${saved[$pair]}"
  done
}
trap restore EXIT

seconds() { # run a build, print its wall time
  local bin=$1 site=$2 start end
  start=$(date +%s.%N)
  "$bin" --root "$site" build --quiet >/dev/null 2>&1 || { echo "build failed in $site" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

for ((r = 1; r <= rounds; r++)); do
  for pair in "$@"; do
    bin=${pair%%:*} site=${pair#*:}
    file=$(find "$site/procedures" -mindepth 2 -name index.md | sort | sed -n 1p)
    "$bin" --root "$site" build --quiet >/dev/null 2>&1
    noop[$pair]+="$(seconds "$bin" "$site") "
    sed -i "s/^\(| 4 | .*\) |$/\1 Edited in round $r. |/" "$file"
    edit[$pair]+="$(seconds "$bin" "$site") "
  done
done

median() { printf '%s\n' $1 | sort -n | awk '{a[NR] = $1} END {printf "%.3f s (fastest %.3f s)", a[int((NR + 1) / 2)], a[1]}'; }
for pair in "$@"; do
  echo "$pair: no change $(median "${noop[$pair]}"), one edit $(median "${edit[$pair]}"), $rounds rounds"
done
