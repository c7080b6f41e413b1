#!/usr/bin/env bash
# Lints and checks template.yaml; offline except for the first-time install from PyPI:
#   1. installs cfn-lint and aws-sam-cli (pinned) into $repo/.local-aws/venv-sam if needed
#   2. cfn-lint template.yaml
#   3. sam validate --lint -t template.yaml          (needs no AWS credentials)
#   4. infra/scripts/check_template_resources.py     (table/bucket vs infra/aws/resources.json,
#                                                     routes vs infra/aws/routes.json)
#
# Usage: bash infra/scripts/check-template.sh [-v]
#   -v  also print each step's full output (what check_template_resources.py checked)
# Prints one line per step and exits non-zero at the first failing step, after showing
# that step's output. Override the pins with CFN_LINT_VERSION / SAM_CLI_VERSION (a changed
# pin reinstalls into the same venv). On a bare Debian without python3-venv, running as
# root installs it with apt-get.
set -euo pipefail

VERBOSE=0
[[ "${1:-}" == "-v" || "${1:-}" == "--verbose" ]] && VERBOSE=1

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/../.." && pwd))"
VENV="$REPO/.local-aws/venv-sam"
CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"
SAM_CLI_VERSION="${SAM_CLI_VERSION:-1.170.0}"
TEMPLATE=template.yaml

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

step() { printf 'check-template: %-44s ' "$1"; }
ok() {
    echo "ok${1:+ ($1)}"
    if [[ $VERBOSE == 1 && -s "$LOG" ]]; then sed 's/^/    /' "$LOG"; fi
    return 0
}
fail() {
    echo "FAILED${1:+ ($1)}"
    if [[ -s "$LOG" ]]; then sed 's/^/    /' "$LOG"; fi
    exit 1
}
# run CMD...: runs a command with its output in $LOG.
run() { "$@" >"$LOG" 2>&1; }

installed_version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

# Debian splits venv/ensurepip out of python3 (package python3-venv).
ensure_venv_module() {
    python3 -c 'import venv, ensurepip' 2>/dev/null && return 0
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq python3-venv || { apt-get update -qq && apt-get install -y -qq python3-venv; }
    else
        echo "python3 has no venv/ensurepip module; install python3-venv (apt-get install python3-venv)"
        return 1
    fi
}

cd "$REPO"

step "install cfn-lint $CFN_LINT_VERSION, sam $SAM_CLI_VERSION"
if [[ -x "$VENV/bin/cfn-lint" && -x "$VENV/bin/sam" ]] \
    && [[ "$(installed_version cfn-lint)" == "$CFN_LINT_VERSION" ]] \
    && [[ "$(installed_version aws-sam-cli)" == "$SAM_CLI_VERSION" ]]; then
    : >"$LOG"
    ok "present in ${VENV#"$REPO"/}"
else
    start=$SECONDS
    run ensure_venv_module || fail "no python3 venv module"
    # A venv whose python no longer runs (python upgraded or moved) is rebuilt.
    if ! "$VENV/bin/python" -c '' 2>/dev/null; then
        run python3 -m venv --clear "$VENV" || fail "python3 -m venv"
    fi
    run "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION" || fail "pip install"
    ok "installed into ${VENV#"$REPO"/} in $((SECONDS - start)) s"
fi

step "cfn-lint $TEMPLATE"
run "$VENV/bin/cfn-lint" "$TEMPLATE" || fail
ok

step "sam validate --lint -t $TEMPLATE"
run env SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=eu-north-1 \
    "$VENV/bin/sam" validate --lint -t "$TEMPLATE" || fail
ok

step "check_template_resources.py"
run "$VENV/bin/python" infra/scripts/check_template_resources.py --repo "$REPO" || fail
ok "$(tail -n 1 "$LOG")"
