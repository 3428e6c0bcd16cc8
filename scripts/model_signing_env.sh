#!/bin/sh
# Build (once per machine) the small virtual environment holding the OpenSSF model-signing CLI
# (`model_signing`, sigstore/model-transparency), which the tests use to check that `model_signing verify key`
# accepts the bundles `benchseal digest --model-signing` writes. Prints the `model_signing` executable on stdout;
# progress goes to stderr.
#
#   sh scripts/model_signing_env.sh          -> build or reuse, print  <env>/bin/model_signing
#   sh scripts/model_signing_env.sh --path   -> print where the environment lives (built or not)
#
# Why a second environment: model-signing pulls sigstore, protobuf models and pyopenssl, none of which benchseal
# needs; a verifier installs it on its own too. model-signing 1.1.1 imports pyopenssl without declaring it
# (/work/shared/ENVIRONMENT.md), so it is installed alongside. About 100 MB and 1-2 minutes the first time.
# The environment lives outside the repository in ${BENCHSEAL_MODEL_SIGNING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/benchseal},
# under a name that hashes its inputs, so clean clones reuse it; an unfinished build is never reused (the
# `.complete` marker is written last) and concurrent builds are serialised with flock where available.
set -eu
PY="${PYTHON:-python3}"
PINS="model-signing==1.1.1 pyopenssl==26.4.0"
RECIPE=1 # bump when the steps below change in a way that needs a rebuild

pyver=$("$PY" -c 'import sys;print("%d.%d" % sys.version_info[:2])')
key=$(printf '%s\n' "$RECIPE" "$pyver" "$PINS" | "$PY" -c 'import hashlib,sys;print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')
CACHE="${BENCHSEAL_MODEL_SIGNING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/benchseal}"
ENV="$CACHE/model-signing-$key"

if [ "${1:-}" = "--path" ]; then
  echo "$ENV"
  exit 0
fi

mkdir -p "$CACHE"
if [ -f "$ENV/.complete" ]; then
  echo "$ENV/bin/model_signing"
  exit 0
fi

build() {
  if [ -f "$ENV/.complete" ]; then
    return 0 # another process built it while we waited for the lock
  fi
  echo "==> building the model-signing environment $ENV" >&2
  rm -rf "$ENV"
  "$PY" -m venv "$ENV"
  # shellcheck disable=SC2086
  "$ENV/bin/python" -m pip install -q --disable-pip-version-check $PINS >&2
  "$ENV/bin/model_signing" --help >/dev/null
  touch "$ENV/.complete"
  echo "==> model-signing environment ready" >&2
}

if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/model-signing.lock"
  flock 9
fi
build
echo "$ENV/bin/model_signing"
