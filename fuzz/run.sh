#!/usr/bin/env bash
# Run the fuzz targets (both, or those named) for SECONDS each (default 60)
# and print, for each, its executions, speed and crashes.
#
#     fuzz/run.sh 1800
#     fuzz/run.sh 1800 inline_html     # one target (run two at once on two cores)
#
# Needs a nightly toolchain and cargo-fuzz (cargo install cargo-fuzz --locked).
# The corpora grow in fuzz/corpus/<target>/ (seeded from the repository's
# procedures and the check fixtures); a crash is written to
# fuzz/artifacts/<target>/ and replays with
#     cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
# Once fixed, copy the input into tests/fixtures/fuzz/ (tests/robustness.rs
# replays every file there).
# The whole output of each run is kept in fuzz/artifacts/<target>.log.
# FUZZ_TIMEOUT (seconds, default 10): an input running longer is a failure.
# Raise it when the fuzzer may be paused (SIGSTOP) while it runs: libFuzzer
# measures wall time. Slow inputs (slow-unit-*) are reported, not failures.
# Exit status: 0 when no target crashed, 1 otherwise.
set -uo pipefail

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse_and_render inline_html)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

seed() {
    local dir=fuzz/corpus/$1
    mkdir -p "$dir"
    if [ "$1" = parse_and_render ]; then
        for f in procedures/*.md procedures/*/index.md tests/fixtures/check/*/site/procedures/*.md \
            tests/fixtures/check/*/site/procedures/*/index.md tests/fixtures/site/*/procedures/*.md; do
            [ -f "$f" ] && cp "$f" "$dir/seed-$(printf '%s' "$f" | tr '/' '_')"
        done
    else
        printf '%s' '<b>bold</b> <a href="https://example.com" title="t">x</a><ul><li>one<li>two</ul>' >"$dir/seed-allowed"
        printf '%s' '<A HREF=" JaVa&#x09;ScRiPt:alert(1)" onClick=alert(1)><script>x</script><img src=x onerror=y>' >"$dir/seed-hostile"
    fi
}

failed=0
for target in "${targets[@]}"; do
    seed "$target"
    mkdir -p "fuzz/artifacts/$target"
    log=fuzz/artifacts/$target.log
    : >"$log.build"
    before=$(find "fuzz/artifacts/$target" -type f | sort)
    # -a: debug assertions (overflow checks) on, as in `cargo test`.
    # (The build, when one is needed, comes first and is not counted.)
    cargo +nightly fuzz build -a "$target" >>"$log.build" 2>&1 || { tail -20 "$log.build"; exit 2; }
    started=$SECONDS
    cargo +nightly fuzz run -a "$target" -- \
        -max_total_time="$seconds" -dict=fuzz/markdown.dict \
        -print_final_stats=1 -rss_limit_mb=4096 -timeout="${FUZZ_TIMEOUT:-10}" >"$log" 2>&1
    status=$?
    elapsed=$((SECONDS - started))
    new=$(comm -13 <(printf '%s\n' "$before") <(find "fuzz/artifacts/$target" -type f | sort) | sed '/^$/d')
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    crashes=$(printf '%s\n' "$new" | grep -cE '/(crash|timeout|oom|leak)-' || true)
    slow=$(printf '%s\n' "$new" | grep -c '/slow-unit-' || true)
    echo "$target: ${runs:-?} executions in ${elapsed} s (${speed:-?}/s), $crashes crashes, $slow slow inputs (exit status $status)"
    if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
        failed=1
        grep -E '^(thread .* panicked|panicked at)|^Error|^==[0-9]+==' "$log" | head -5
        printf '%s\n' "$new" | sed '/^$/d; s/^/  /' | head -5
        [ "$status" -ne 0 ] && [ -z "$runs" ] && tail -20 "$log"
    fi
done
exit "$failed"
