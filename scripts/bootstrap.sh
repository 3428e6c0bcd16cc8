#!/bin/sh
# Set up benchseal in ./.venv on a fresh Linux machine (only python3 + pip needed), then run:
#   sh scripts/bootstrap.sh demo [ARGS]   -> benchseal demo  (the main job; CPU-only is fine)
#   sh scripts/bootstrap.sh test [ARGS]   -> the test suite (pytest)
#   sh scripts/bootstrap.sh setup         -> only install
# On machines without an NVIDIA driver, torch==2.13.0 (the CPU build) is installed before anything
# that depends on torch, so pip does not pull multi-GB CUDA wheels. Re-runs skip the install when
# pyproject.toml has not changed.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="${BENCHSEAL_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
what="${1:-setup}"
[ $# -gt 0 ] && shift

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
stamp="$VENV/.benchseal-stamp"
want="$(cat pyproject.toml scripts/bootstrap.sh | "$VPY" -c 'import hashlib,sys;print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing benchseal and its dependencies (a few minutes the first time)"
  "$VPY" -m pip install -q --upgrade pip
  if ! command -v nvidia-smi >/dev/null 2>&1 && ! "$VPY" -c 'import torch' >/dev/null 2>&1; then
    echo "==> no NVIDIA driver found: installing the CPU build torch==2.13.0 first"
    "$VPY" -m pip install -q "torch==2.13.0"
  fi
  "$VPY" -m pip install -q -e ".[hf,eval,ray,dev]"
  echo "$want" > "$stamp"
fi

export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-1}"
export TOKENIZERS_PARALLELISM=false
case "$what" in
  setup) echo "==> ready: $VENV/bin/benchseal" ;;
  demo) exec "$VENV/bin/benchseal" demo "$@" ;;
  test)
    set +e
    "$VPY" -m pytest "$@"
    rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then
      echo "pytest collected no tests: treating as a failure" >&2
      exit 1
    fi
    exit "$rc"
    ;;
  *) echo "usage: sh scripts/bootstrap.sh [setup|demo|test] [ARGS]" >&2; exit 2 ;;
esac
