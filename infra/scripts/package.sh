#!/usr/bin/env bash
# Builds every Lambda function as AWS runs it (`cargo lambda build --release`, a
# `bootstrap` per function, zipped) and reports each one's zipped and unzipped size.
#
#   bash infra/scripts/package.sh                 # x86_64 (what this machine can build)
#   STAMP_ARCH=arm64 bash infra/scripts/package.sh  # needs the aarch64 standard library
#                                                   # (rustup target add aarch64-unknown-linux-gnu)
#   STAMP_FUNCTIONS="partner-import pull" bash infra/scripts/package.sh   # a subset
#
# cargo-lambda and zig (its cross-linker) come from PyPI into the git-ignored
# .local-aws/lambda-venv. The zips land in target/lambda/<function>/bootstrap.zip, the
# layout `sam deploy` and `cargo lambda deploy` expect. Profile: [profile.release] of
# Cargo.toml (opt-level, LTO and the rest are chosen there; see README "Packaging");
# cargo's own overrides try another one without editing it, e.g.
#   CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_PROFILE_RELEASE_LTO=fat bash infra/scripts/package.sh
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO/.local-aws/lambda-venv"
CARGO_LAMBDA_VERSION=1.9.2
ZIG_VERSION=0.15.2
ARCH="${STAMP_ARCH:-x86_64}"

log() { echo "package: $*" >&2; }

if [[ ! -x "$VENV/bin/cargo-lambda" ]]; then
    log "installing cargo-lambda==$CARGO_LAMBDA_VERSION and ziglang==$ZIG_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIG_VERSION"
fi
export PATH="$VENV/bin:$PATH"

cd "$REPO"
if [[ -n "${STAMP_FUNCTIONS:-}" ]]; then
    read -r -a FUNCTIONS <<<"$STAMP_FUNCTIONS"
else
    FUNCTIONS=()
    for d in functions/*/; do
        [[ -f "$d/src/main.rs" ]] && FUNCTIONS+=("$(basename "$d")")
    done
fi

args=()
for f in "${FUNCTIONS[@]}"; do args+=(--bin "$f"); done
case "$ARCH" in
    x86_64) arch_flag=(--x86-64) ;;
    arm64) arch_flag=(--arm64) ;;
    *) log "STAMP_ARCH must be x86_64 or arm64"; exit 2 ;;
esac

log "cargo lambda build --release ${arch_flag[*]} --output-format zip (${#FUNCTIONS[@]} functions)"
cargo lambda build --release "${arch_flag[@]}" --output-format zip "${args[@]}" >&2

printf '%-20s %12s %12s\n' function zipped unzipped
total=0
for f in "${FUNCTIONS[@]}"; do
    zip="${CARGO_TARGET_DIR:-target}/lambda/$f/bootstrap.zip"
    zipped=$(stat -c %s "$zip")
    unzipped=$(python3 -c 'import sys, zipfile; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))' "$zip")
    total=$((total + zipped))
    printf '%-20s %9.2f MB %9.2f MB\n' "$f" "$(echo "$zipped / 1000000" | bc -l)" "$(echo "$unzipped / 1000000" | bc -l)"
done
printf '%-20s %9.2f MB\n' "all (zipped)" "$(echo "$total / 1000000" | bc -l)"
