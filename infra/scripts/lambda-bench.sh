#!/usr/bin/env bash
# Issue 15's figures in one run: builds the bootstraps (infra/scripts/package.sh, which
# also prints their sizes), builds the bench and its hello-world baseline the same way,
# starts DynamoDB Local and moto, and runs infra/lambda-bench against them.
#
#   bash infra/scripts/lambda-bench.sh
#   STAMP_DDB_PORT=8017 STAMP_S3_PORT=4577 LAMBDA_BENCH_PORT=9017 bash infra/scripts/lambda-bench.sh
#
# LAMBDA_BENCH_PORT (default 9017) and the next ten ports are the bench's own: the
# DynamoDB proxy, the S3 proxy, and the Lambda Runtime APIs. LAMBDA_BENCH_SKIP_BUILD=1
# reuses the last build.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
if [[ -z "${LAMBDA_BENCH_SKIP_BUILD:-}" ]]; then
    bash infra/scripts/package.sh
    # The bench in a build of its own, so it does not change the functions' features.
    PATH="$REPO/.local-aws/lambda-venv/bin:$PATH" \
        cargo lambda build --release --x86-64 --bin lambda-hello --bin lambda-bench >&2
fi
bash infra/scripts/local-aws.sh start >/dev/null
eval "$(bash infra/scripts/local-aws.sh env)"
BENCH="${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/release/lambda-bench"
# cargo lambda leaves a binary under target/lambda/<name>/bootstrap when it zips
[[ -x "$BENCH" ]] || BENCH="${CARGO_TARGET_DIR:-target}/lambda/lambda-bench/bootstrap"
exec "$BENCH"
