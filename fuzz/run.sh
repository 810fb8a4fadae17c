#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints what each did.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]     (default 60)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain the
# sanitizer flags are unlocked with RUSTC_BOOTSTRAP=1, as below. Corpora grow
# in fuzz/corpus/<target> (not committed), starting from fuzz/seeds/<target>;
# a crash is written to fuzz/artifacts/<target>/ and ends the run with
# status 1. Keep every crash as a regression input in
# fuzz/regressions/<target>/ (ddns-core/tests/fuzz_regressions.rs runs them).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
status=0
for target in seed_codec dyndns2_codec hostname signed_message txt_value dns_update dns_message; do
    mkdir -p "corpus/$target" "artifacts/$target"
    log="artifacts/$target/last-run.log"
    if cargo fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" >"$log" 2>&1; then
        result="no crash"
    else
        result="CRASH (see $log and artifacts/$target/)"
        status=1
    fi
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
    rate=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo "?")
    corpus=$(find "corpus/$target" -type f | wc -l)
    printf '%-15s %10s runs %8s/s  cov %5s  corpus %5s  %s\n' \
        "$target" "$runs" "$rate" "$cov" "$corpus" "$result"
done
exit "$status"
