#!/usr/bin/env bash
# Runs every cargo-fuzz target for a given time each (default 600 s), on nightly:
#   bash infra/scripts/fuzz.sh [seconds-per-target] [target...]
# Needs `cargo install cargo-fuzz`. New corpus entries land in fuzz/corpus/<target>/
# (keep the interesting ones in git: the stable test command replays them all, see
# shared/domain/src/fuzzing.rs); a crash is written to fuzz/artifacts/<target>/ — copy it
# into the target's corpus once fixed, so it is replayed for ever.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"
secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(delivery_json delivery_csv identities cursor query)
fi
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${secs}s"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=65536 \
    -print_final_stats=1 2>&1 | grep -E "^(#|stat::number_of_executed_units|==|SUMMARY|Done)" | tail -4
done
