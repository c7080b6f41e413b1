#!/usr/bin/env bash
# The heavy injected-faults run (issue 13): 100,000 events (pushes and one upload) into
# Stamp on DynamoDB Local + moto behind faultproxy at 10 % faults, compared item by item
# with a clean import; prints the figures (faults by kind, retries, items compared,
# differences). The ordinary test command runs the 5,000-event version.
#
#   bash infra/scripts/faults.sh            # STAMP_FAULT_EVENTS / STAMP_FAULT_RATE to change
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
bash infra/scripts/local-aws.sh start >/dev/null
trap 'bash infra/scripts/local-aws.sh stop >/dev/null 2>&1 || true' EXIT
eval "$(bash infra/scripts/local-aws.sh env)"
cargo test -p stamp-tests --test it \
    faults::a_hundred_thousand_events_through_ten_percent_faults_index_as_a_clean_import \
    -- --ignored --nocapture 2>&1 | grep -E "^faults:|^test |panicked|test result"
