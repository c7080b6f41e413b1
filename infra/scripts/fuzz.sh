#!/usr/bin/env bash
# Runs every cargo-fuzz target for a given time each (default 600 s), on nightly:
#   bash infra/scripts/fuzz.sh [seconds-per-target] [target...]
# Needs `cargo install cargo-fuzz`. New corpus entries land in fuzz/corpus/<target>/
# (keep the interesting ones in git: the stable test command replays them all, see
# shared/domain/src/fuzzing.rs); a crash is written to fuzz/artifacts/<target>/ — copy it
# into the target's corpus once fixed, so it is replayed for ever.
# The targets run without a sanitizer by default (FUZZ_SANITIZER=address to change): the
# parsers are safe Rust, so what fuzzing finds is a panic, and an uninstrumented build is
# much quicker to build and to run. Each target's full libFuzzer log goes to
# fuzz/logs/<target>.log (not kept in git).
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"
secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(delivery_json delivery_csv identities cursor query)
fi
sanitizer="${FUZZ_SANITIZER:-none}"
mkdir -p logs
status=0
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${secs}s"
  nice -n 19 cargo +nightly fuzz run -s "$sanitizer" "$t" "corpus/$t" -- \
    -max_total_time="$secs" -max_len=65536 -print_final_stats=1 >"logs/$t.log" 2>&1 || status=1
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|SUMMARY|==[0-9]+== ERROR)|panicked" "logs/$t.log" | tail -4
done
exit "$status"
