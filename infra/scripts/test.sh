#!/usr/bin/env bash
# Runs every test Stamp has, on a fresh machine too: installs and starts DynamoDB Local
# and moto (S3), lints template.yaml with cfn-lint and `sam validate --lint`, checks
# formatting and clippy, and runs the whole cargo test suite against them.
#
#   bash infra/scripts/test.sh
#
# Set STAMP_TEST_SKIP_LINT=1 to skip the template/clippy steps during quick local runs.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
step() { printf '\n==> %s\n' "$*"; }

# pdftotext reads the extracts' PDFs back in the HTTP scenarios.
if ! command -v pdftotext >/dev/null; then
    step "poppler-utils (pdftotext)"
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq poppler-utils >/dev/null \
            || { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }
    else
        echo "pdftotext is missing: install poppler-utils (apt-get install poppler-utils)" >&2
        exit 1
    fi
fi

step "local AWS stand-ins (DynamoDB Local, moto)"
bash infra/scripts/local-aws.sh start >/dev/null
trap 'bash infra/scripts/local-aws.sh stop >/dev/null 2>&1 || true' EXIT
eval "$(bash infra/scripts/local-aws.sh env)"

if [[ "${STAMP_TEST_SKIP_LINT:-0}" != 1 ]]; then
    step "template.yaml (cfn-lint, sam validate --lint, resources and routes)"
    bash infra/scripts/check-template.sh

    step "cargo fmt --check"
    cargo fmt --all -- --check

    step "cargo clippy"
    cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

step "schemathesis against stamp-local (every operation, a token per role)"
bash infra/scripts/schemathesis.sh

step "cargo test --workspace"
log="$(mktemp)"
status=0
cargo test --workspace 2>&1 | tee "$log" || status=$?
# cargo prints one result line per test binary, the last often a doc-test run with no
# tests; close with the totals so the whole run reads as what it was.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\ntests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"

step "portal in a real browser (chromium, Playwright, axe-core)"
bash infra/scripts/portal-browser.sh || status=$?
exit "$status"
