#!/usr/bin/env bash
# The portal in a real browser: installs Debian's chromium (apt), Playwright for Python
# (PyPI, into the git-ignored .local-aws/venv-browser; Playwright's own browser download
# is never used) and axe-core (npm, into .local-aws/npm), starts `stamp-local serve
# --demo` on a fresh data directory and runs tests/browser/portal_flows.py: a flow per
# role, axe-core on every page, page weights, screenshots under target/portal-screenshots/.
#
#   bash infra/scripts/portal-browser.sh        (STAMP_PORTAL_PORT, default 3099)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
PORT="${STAMP_PORTAL_PORT:-3099}"
PLAYWRIGHT_VERSION="${PLAYWRIGHT_VERSION:-1.49.1}"
AXE_VERSION="${AXE_VERSION:-4.10.2}"
VENV="$REPO/.local-aws/venv-browser"
NPM="$REPO/.local-aws/npm"
SHOTS="$REPO/target/portal-screenshots"

if ! [[ -x /usr/bin/chromium ]]; then
    echo "portal-browser: installing chromium (apt)"
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq chromium >/dev/null \
            || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
    else
        echo "chromium is missing: apt-get install chromium (as root)" >&2
        exit 1
    fi
fi
if ! "$VENV/bin/python" -c "import playwright" 2>/dev/null; then
    echo "portal-browser: installing playwright $PLAYWRIGHT_VERSION (PyPI)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "playwright==$PLAYWRIGHT_VERSION"
fi
AXE="$NPM/node_modules/axe-core/axe.min.js"
if ! [[ -f "$AXE" ]]; then
    echo "portal-browser: installing axe-core $AXE_VERSION (npm)"
    mkdir -p "$NPM"
    npm install --silent --no-audit --no-fund --prefix "$NPM" "axe-core@$AXE_VERSION" >/dev/null
fi

cargo build -q -p stamp-local
# A server already on the port would be tested instead of this one.
if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then echo "port $PORT is taken" >&2; exit 1; fi
DATA="$(mktemp -d)"
"${CARGO_TARGET_DIR:-target}/debug/stamp-local" serve --demo --addr "127.0.0.1:$PORT" --data "$DATA" >"$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$DATA/serve.log"; exit 1; }
    sleep 0.5
done
rm -rf "$SHOTS"
"$VENV/bin/python" tests/browser/portal_flows.py "http://127.0.0.1:$PORT" "$AXE" "$SHOTS"
