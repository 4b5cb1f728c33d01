#!/usr/bin/env bash
# Benchmark procdoc against Hugo and mdBook on synthetic corpora (issue 6).
#
#   bench/run.sh [N ...]            default: 100 1000
#   bench/run.sh 100 > results.md   the tables go to stdout, progress to stderr
#
# Environment:
#   PROCDOC=path        the procdoc binary (default target/release/procdoc)
#   BENCH_DIR=dir       where the corpora live (default target/bench)
#   BENCH_SEED=n        the corpus seed (default 1)
#   BENCH_REPEAT=n      runs per measurement, the median is reported (default 1)
#
# For each N it generates (once; see bench/gen_corpus.py) a procdoc site with
# N procedures and 3N screenshots, the same content as a Hugo site and as an
# mdBook, then times with /usr/bin/time:
#   procdoc build --no-pdf, cold     (no output/, no .procdoc-cache/)
#   procdoc build, cold              (with the PDF handouts)
#   procdoc build, no change         (right after the cold full build)
#   procdoc build, one edit          (a sentence appended to one step)
#   hugo, cold, resize to 800 px     (no public/, resources/ or cache dir)
#   hugo, cold, no resizing          (same, with noresize.toml)
#   mdbook build                     (when mdbook is on PATH)
# "Cold" is about the tools' own caches: the operating system's file cache is
# warmed first (every source file read once), so no run pays for the disk.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

BENCH_DIR="${BENCH_DIR:-target/bench}"
PROCDOC="${PROCDOC:-target/release/procdoc}"
SEED="${BENCH_SEED:-1}"
REPEAT="${BENCH_REPEAT:-1}"
if [ "$#" -gt 0 ]; then NS=("$@"); else NS=(100 1000); fi

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

for n in "${NS[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive whole number, not '$n'"
done
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive whole number"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install -y time)"
if [ ! -x "$PROCDOC" ]; then
  die "no procdoc binary at $PROCDOC: run cargo build --release first, or set PROCDOC=path/to/procdoc"
fi
PROCDOC="$(cd "$(dirname "$PROCDOC")" && pwd)/$(basename "$PROCDOC")"
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"

HAVE_HUGO=0; command -v hugo >/dev/null 2>&1 && HAVE_HUGO=1
HAVE_MDBOOK=0; command -v mdbook >/dev/null 2>&1 && HAVE_MDBOOK=1

tmp="$(mktemp -d)"
edited=""      # a procedure file being edited, restored on exit
cleanup() {
  if [ -n "$edited" ] && [ -f "$tmp/edited.orig" ]; then cp "$tmp/edited.orig" "$edited"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---------------------------------------------------------------- machine
cpu_model="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || true)"
[ -n "$cpu_model" ] || cpu_model="$(uname -m)"
mem_gib="$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)"
os_name="$( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || uname -s)"
procdoc_version="$("$PROCDOC" --version 2>/dev/null || echo unknown)"
case "$PROCDOC" in
  */debug/*) procdoc_version="$procdoc_version (DEBUG build: the figures mean nothing)";;
esac
hugo_version="not installed: skipped"
[ "$HAVE_HUGO" = 1 ] && hugo_version="$(hugo version 2>/dev/null | head -n1)"
mdbook_version="not installed (not on PATH): skipped"
[ "$HAVE_MDBOOK" = 1 ] && mdbook_version="$(mdbook --version 2>/dev/null | head -n1)"

echo "## Machine"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- CPU: $cpu_model, $(nproc) logical cores available"
echo "- Memory: $mem_gib GiB"
echo "- System: $os_name, Linux $(uname -r)"
echo "- procdoc: $procdoc_version ($PROCDOC)"
echo "- Hugo: $hugo_version"
echo "- mdBook: $mdbook_version"
echo "- Corpus: bench/gen_corpus.py, seed $SEED; $REPEAT run(s) per measurement, median shown"
if [ -n "${RUST_MIN_STACK:-}" ]; then
  echo "- Environment: RUST_MIN_STACK=$RUST_MIN_STACK (thread stack size for procdoc)"
fi
echo

# ------------------------------------------------------------ measuring
declare -A WALL CPU RSS STATUS

# run_once LOGFILE CMD...: runs CMD under /usr/bin/time; prints "wall cpu rss_kb rc"
run_once() {
  local log="$1"; shift
  local tf="$tmp/time.txt" rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$log" 2>&1 || rc=$?
  tail -n1 "$tf" | awk -v rc="$rc" '{printf "%s %.2f %s %s\n", $1, $2 + $3, $4, rc}'
}

# measure KEY PREPARE CMD...: runs PREPARE then CMD, REPEAT times; keeps the median run
measure() {
  local key="$1" prepare="$2"; shift 2
  local i results=() line
  say "  $key ..."
  for ((i = 0; i < REPEAT; i++)); do
    "$prepare"
    line="$(run_once "$tmp/$key.log" "$@")"
    results+=("$line")
    if [ "${line##* }" != 0 ]; then break; fi
  done
  line="$(printf '%s\n' "${results[@]}" | sort -n -k1,1 | awk '{a[NR] = $0} END {print a[int((NR + 1) / 2)]}')"
  read -r w c r rc <<<"$line"
  WALL[$key]="$w"; CPU[$key]="$c"; RSS[$key]="$r"
  if [ "$rc" = 0 ]; then
    STATUS[$key]=ok
  else
    STATUS[$key]="failed (exit $rc)"
    say "  $key failed with exit status $rc; the end of its output:"
    tail -n 15 "$tmp/$key.log" | sed 's/^/    /' >&2
  fi
}

nothing() { :; }

# ------------------------------------------------------------ per N
for n in "${NS[@]}"; do
  site="$BENCH_DIR/n$n"
  hugo_site="$site-hugo"
  book="$site-mdbook"
  say "== N=$n: corpus in $site"
  python3 "$repo/bench/gen_corpus.py" --n "$n" --seed "$SEED" --out "$site" >&2

  # Warm the OS file cache so that the first tool does not pay for the disk.
  find "$site/procedures" "$site/procdoc.toml" -type f -exec cat {} + >/dev/null

  if ! "$PROCDOC" --root "$site" check --quiet >"$tmp/check.log" 2>&1; then
    say "  procdoc check found problems in the corpus:"
    tail -n 20 "$tmp/check.log" | sed 's/^/    /' >&2
  fi

  procdoc_cold() { rm -rf "$site/output" "$site/.procdoc-cache"; }
  edit_one() {
    # Append a sentence to step 4 of the first procedure (once per run).
    edited="$(find "$site/procedures" -mindepth 2 -name index.md | sort | sed -n 1p)"
    [ -f "$tmp/edited.orig" ] || cp "$edited" "$tmp/edited.orig"
    sed -i 's/^\(| 4 | .*\) |$/\1 The benchmark added this sentence. |/' "$edited"
    grep -q 'The benchmark added this sentence' "$edited" || die "could not edit $edited"
  }

  measure "$n:html_cold" procdoc_cold "$PROCDOC" --root "$site" build --quiet --no-pdf
  measure "$n:full_cold" procdoc_cold "$PROCDOC" --root "$site" build --quiet
  measure "$n:noop" nothing "$PROCDOC" --root "$site" build --quiet
  measure "$n:edit" edit_one "$PROCDOC" --root "$site" build --quiet
  out_mb="$(du -sm "$site/output" 2>/dev/null | cut -f1 || echo '?')"
  cp "$tmp/edited.orig" "$edited" && rm -f "$tmp/edited.orig" && edited=""

  hugo_cold() { rm -rf "$hugo_site/public" "$hugo_site/resources" "$hugo_site/.hugo-cache"; }
  if [ "$HAVE_HUGO" = 1 ]; then
    find "$hugo_site/content" -type f -name '*.md' -exec cat {} + >/dev/null
    measure "$n:hugo_plain" hugo_cold env -C "$hugo_site" hugo --quiet \
      --cacheDir "$hugo_site/.hugo-cache" --config hugo.toml,noresize.toml
    measure "$n:hugo_resize" hugo_cold env -C "$hugo_site" hugo --quiet \
      --cacheDir "$hugo_site/.hugo-cache"
    resized="$(find "$hugo_site/public" -name '*_800x0_*' | wc -l)"
    [ "$resized" = $((3 * n)) ] || say "  warning: Hugo wrote $resized resized images, expected $((3 * n))"
  fi
  mdbook_clean() { rm -rf "$book/book"; }
  if [ "$HAVE_MDBOOK" = 1 ]; then
    measure "$n:mdbook" mdbook_clean mdbook build "$book"
  fi

  # ---------------------------------------------------------- the table
  hugo_wall="${WALL[$n:hugo_resize]:-}"
  hugo_cpu="${CPU[$n:hugo_resize]:-}"
  [ "${STATUS[$n:hugo_resize]:-}" = ok ] || { hugo_wall=""; hugo_cpu=""; }

  ratio() { # a b -> a/b with 2 decimals, or "-"
    if [ -n "$2" ] && [ -n "$1" ] && awk -v b="$2" 'BEGIN {exit !(b > 0)}'; then
      awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'
    else
      echo "-"
    fi
  }
  row() { # key label target-kind
    local key="$n:$1" label="$2" kind="$3"
    if [ -z "${STATUS[$key]:-}" ]; then return; fi
    if [ "${STATUS[$key]}" != ok ]; then
      printf '| %s | %s | | | | | |\n' "$label" "${STATUS[$key]}"
      return
    fi
    local w="${WALL[$key]}" c="${CPU[$key]}" mib rw rc target met=""
    mib="$(awk -v k="${RSS[$key]}" 'BEGIN {printf "%.0f", k / 1024}')"
    rw="$(ratio "$w" "$hugo_wall")"; rc="$(ratio "$c" "$hugo_cpu")"
    case "$kind" in
      half)  target="wall <= 0.5 x Hugo"; [ "$rw" != - ] && met="$(awk -v r="$rw" 'BEGIN {print (r <= 0.5) ? "yes" : "no"}')";;
      one)   target="wall <= Hugo"; [ "$rw" != - ] && met="$(awk -v r="$rw" 'BEGIN {print (r <= 1) ? "yes" : "no"}')";;
      noop)  target="wall < 0.5 s"; met="$(awk -v w="$w" 'BEGIN {print (w < 0.5) ? "yes" : "no"}')";;
      edit)  target="wall < 0.3 s"; met="$(awk -v w="$w" 'BEGIN {print (w < 0.3) ? "yes" : "no"}')";;
      *)     target=""; met="";;
    esac
    if [ "$1" = "${1#hugo}" ] && [ "$1" != mdbook ] && [ "${RSS[$key]}" -ge 1048576 ]; then
      met="$met, RSS over 1 GiB"
    fi
    [ -n "$target" ] && [ -z "$met" ] && met="-"
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$w" "$c" "$mib" "$rw" "$rc" "${target:+$target: }${met}"
  }

  echo "## N = $n ($n procedures, $((3 * n)) screenshots)"
  echo
  echo "| Measurement | Wall (s) | CPU (s) | Max RSS (MiB) | Wall / Hugo | CPU / Hugo | Target: met? |"
  echo "|---|--:|--:|--:|--:|--:|---|"
  row html_cold   "procdoc build --no-pdf, cold" half
  row full_cold   "procdoc build (with PDF), cold" one
  row noop        "procdoc build, no change" noop
  row edit        "procdoc build, one procedure edited" edit
  row hugo_resize "Hugo, cold, resizing to 800 px" ""
  row hugo_plain  "Hugo, cold, no resizing" ""
  row mdbook      "mdBook build" ""
  echo
  site_mb="$(du -smL "$site/procedures" | cut -f1)"
  echo "Sources: ${site_mb} MB. procdoc output/: ${out_mb} MB."
  [ "$HAVE_HUGO" = 1 ] || echo "Hugo is not on PATH: its rows are missing and there are no ratios."
  [ "$HAVE_MDBOOK" = 1 ] || echo "mdBook is not on PATH: its row is missing."
  echo "Max RSS over 1 GiB is flagged in the last column (the target is < 1 GiB)."
  echo
done

# ------------------------------------------------------------ scaling
if [ "$(printf '%s\n' "${NS[@]}" | sort -u | wc -l)" -ge 2 ]; then
  # N = 1000 against N = 100 when both were run, else the largest against the smallest.
  small="$(printf '%s\n' "${NS[@]}" | sort -n | head -n1)"
  large="$(printf '%s\n' "${NS[@]}" | sort -n | tail -n1)"
  if printf '%s\n' "${NS[@]}" | grep -qx 100 && printf '%s\n' "${NS[@]}" | grep -qx 1000; then
    small=100 large=1000
  fi
  limit="$(awk -v a="$large" -v b="$small" 'BEGIN {printf "%g", a / b}')"
  echo "## Scaling: N = $large against N = $small"
  echo
  echo "| Measurement | Wall N=$small (s) | Wall N=$large (s) | Ratio | Target: <= ${limit}x |"
  echo "|---|--:|--:|--:|---|"
  for pair in "html_cold:procdoc build --no-pdf, cold" "full_cold:procdoc build (with PDF), cold" \
              "noop:procdoc build, no change" "edit:procdoc build, one procedure edited" \
              "hugo_resize:Hugo, cold, resizing to 800 px"; do
    key="${pair%%:*}" label="${pair#*:}"
    [ "${STATUS[$small:$key]:-}" = ok ] && [ "${STATUS[$large:$key]:-}" = ok ] || continue
    a="${WALL[$small:$key]}" b="${WALL[$large:$key]}"
    r="$(ratio "$b" "$a")"
    met="$(awk -v r="$r" -v l="$limit" 'BEGIN {if (r == "-") print "-"; else print (r <= l) ? "yes" : "no"}')"
    echo "| $label | $a | $b | $r | $met |"
  done
  echo
  echo "Times under about 0.1 s are mostly start-up and measure in 0.01 s steps: their ratios say little."
fi
