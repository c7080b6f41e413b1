#!/usr/bin/env bash
# Schemathesis (PyPI) against a `stamp-local serve --demo` on a temp data dir: every
# operation of the OpenAPI document, positive and negative data, with a token per role.
# Checks: no server error, answers match their schema, no status the document lacks.
#
#   bash infra/scripts/schemathesis.sh            (STAMP_ST_PORT, STAMP_ST_EXAMPLES)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
PORT="${STAMP_ST_PORT:-3099}"
EXAMPLES="${STAMP_ST_EXAMPLES:-8}"
VERSION=4.32.5
VENV="$REPO/.local-aws/venv-st"

if [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != *"$VERSION"* ]]; then
    echo "schemathesis: installing $VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

cargo build --quiet -p stamp-local
BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/stamp-local"
DATA="$(mktemp -d)"
"$BIN" serve --addr "127.0.0.1:$PORT" --data "$DATA" --demo >"$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$DATA/serve.log"; exit 1; }
    sleep 0.2
done

token() { "$BIN" token --data "$DATA" "$@" | tail -1; }
ORG=5569999997
declare -A TOKENS=(
    [partner]="$(token --role partner --partner demo-ledger)"
    [company]="$(token --role company_user --company "$ORG")"
    [extracts]="$(token --role company_user --company "$ORG")"
    [company-admin]="$(token --role company_admin --company "$ORG")"
    [operator]="$(token --role operator)"
    [employee]="$(token --role employee --person-id 19811218-9876)"
    [service]=""
)

status=0
for tag in service partner company extracts employee operator company-admin; do
    echo "==> schemathesis: operations tagged $tag"
    auth=()
    [[ -n "${TOKENS[$tag]}" ]] && auth=(-H "Authorization: Bearer ${TOKENS[$tag]}")
    "$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
        --include-tag "$tag" "${auth[@]}" \
        --checks not_a_server_error,response_schema_conformance,status_code_conformance \
        --mode all --max-examples "$EXAMPLES" --phases examples,coverage,fuzzing \
        --generation-database none --no-color --workers 1 --request-timeout 30 \
        --seed 9 || status=$?
done
exit "$status"
