#!/usr/bin/env bash
# The GPU validation kit: every GPU path of benchseal checked on one NVIDIA GPU in one short run.
#
#   bash scripts/gpu_check.sh [OUTDIR]        # OUTDIR defaults to $OUT, else ./gpu-check-out
#
# Steps (docs/gpu-validation.md): 0 setup (wheels from .whl/ when modules are missing, environment),
# 1 nvidia-smi -q, `benchseal hw`, an NVML replay fixture (identifiers redacted) checked by replay,
# 3 `benchseal hw --microbench`, 4 telemetry (sampler overhead and rate, energy counter vs power x
# time), 5 a random-weight Llama-3.1-8B built on the GPU: FlopCounterMode count, `benchseal perf
# --backend hf` at two load points, MFU/MBU as benchseal computes them vs the count and the
# microbenchmark, 6 the perf client's --workers scaling against the test server, 7 `benchseal run
# hunan-2025` end to end on a random-weight Llama-3.2-1B with the local demo suite, signed and
# verified, 2 `BENCHSEAL_REQUIRE_GPU=1 pytest -m gpu` (last: it repeats parts of 3 and 5).
#
# Every step has its own time limit inside a global deadline (GPU_CHECK_DEADLINE_S, default 450 s);
# a failing step is recorded (status, duration, reason) and the kit goes on. After every step it
# rewrites OUTDIR/summary.json, OUTDIR/summary.md and OUTDIR/results.tar.gz (all raw outputs and
# logs) and copies the recorded NVML fixture to OUTDIR, so a kill near the deadline loses little.
# Without a GPU the CPU-only steps run and the others are recorded as skipped.
#
# Environment: PYTHON (default python3), GPU_CHECK_DEADLINE_S, GPU_CHECK_STEPS (e.g. "5,7" to rerun
# some steps; 0 and 1b always run), GPU_CHECK_WORK (work folder; default a new /tmp folder),
# GPU_CHECK_SITE (where .whl/ is installed; default /tmp/site), GPU_CHECK_FORCE_CPU=1 (act as if
# there were no GPU), GPU_CHECK_WORKERS / GPU_CHECK_WORKER_REQUESTS (step 6), GPU_CHECK_REHEARSE=1
# (steps 5 and 7 on the CPU with a tiny Llama-3-shaped model, step 7 with a smaller workload and --limit 4:
# rehearses the kit's plumbing anywhere).
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT_DIR=${1:-${OUT:-$REPO/gpu-check-out}}
PY=${PYTHON:-python3}
DEADLINE_S=${GPU_CHECK_DEADLINE_S:-450}
STEPS=${GPU_CHECK_STEPS:-all}
SITE=${GPU_CHECK_SITE:-/tmp/site}
WORK=${GPU_CHECK_WORK:-/tmp/benchseal-gpu-check}
# a full run starts clean; a partial rerun (GPU_CHECK_STEPS) keeps the earlier results, its rows replace theirs
if [ "$STEPS" = all ] && [ -d "$WORK/results" ]; then rm -rf "$WORK/results" "$WORK/models" "$WORK/keys"; fi
RES=$WORK/results
MODELS=$WORK/models
RESERVE_S=12     # kept back from every step for the final summary and archive
START=$(date +%s.%N)
mkdir -p "$OUT_DIR" "$RES/logs" "$MODELS" || exit 3
OUT_DIR=$(cd "$OUT_DIR" && pwd)
KIT="$PY $REPO/scripts/gpu_check.py"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_DISABLE_PROGRESS_BARS=1 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
export HF_HOME=$WORK/hf-home HF_DATASETS_CACHE=$WORK/hf-home/datasets

elapsed() { awk -v s="$START" -v n="$(date +%s.%N)" 'BEGIN { printf "%d", n - s }'; }
left() { echo $((DEADLINE_S - $(elapsed) - RESERVE_S)); }
wanted() { [ "$STEPS" = all ] && return 0; case ",$STEPS," in *",$1,"*|*",${1%[a-z]},"*) return 0 ;; esac; return 1; }

summary() {  # rewrite summary.{json,md}, results.tar.gz and the fixture copy in OUT_DIR
  timeout -k 2 25 $KIT summary --work "$WORK" --out "$OUT_DIR" --deadline "$DEADLINE_S" --elapsed "$(elapsed)" "$@" \
    >>"$RES/logs/summary.log" 2>&1 || echo "gpu_check: could not write the summary (see $RES/logs/summary.log)" >&2
}

record() {  # id name status rc duration limit reason
  $KIT record --work "$WORK" --id "$1" --name "$2" --status "$3" --rc "$4" --duration "$5" --limit "$6" \
    --reason="$7" --log "logs/$1_$2.log" >/dev/null 2>>"$RES/logs/summary.log"
  printf '  %-4s %-16s %-8s %6ss  %s\n' "$1" "$2" "$3" "$5" "$7"
  summary
}

skip() { record "$1" "$2" skipped 0 0 0 "$3"; }

# step ID NAME LIMIT_S COMMAND... : run COMMAND with min(LIMIT_S, time left) and record the outcome
step() {
  local id=$1 name=$2 limit=$3; shift 3
  local log="$RES/logs/${id}_${name}.log" rem t0 rc dur status reason
  rem=$(left)
  if [ "$rem" -lt 10 ]; then skip "$id" "$name" "global deadline (${DEADLINE_S}s) reached"; return 0; fi
  [ "$limit" -gt "$rem" ] && limit=$rem
  t0=$(date +%s.%N)
  # in the background, so that a TERM to this script is handled at once (bash runs traps during
  # `wait`, not during a foreground command); the pid is timeout's, which passes TERM on to the step
  ( cd "$RES" && exec timeout -k 5 "$limit" "$@" ) >"$log" 2>&1 </dev/null &
  CUR_PID=$! CUR_STEP="$id $name $limit" CUR_T0=$t0
  wait "$CUR_PID"
  rc=$?
  CUR_PID="" CUR_STEP=""
  dur=$(awk -v s="$t0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')
  reason=""
  if [ $rc -eq 0 ]; then status=ok
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status=timeout; reason="killed after its ${limit}s limit"
  elif [ $rc -eq 77 ]; then status=skipped; reason=$(grep -m1 '^SKIP:' "$log" | cut -c7-)
  else status=failed; reason="exit $rc: $(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-300)"
  fi
  record "$id" "$name" "$status" "$rc" "$dur" "$limit" "$reason"
  [ $rc -eq 0 ]
}

CUR_PID="" CUR_STEP="" CUR_T0=""
finish() { trap - TERM INT; summary --final; exit "${1:-0}"; }
interrupted() {
  echo "gpu_check: interrupted" >&2
  trap - TERM INT
  if [ -n "$CUR_PID" ]; then
    kill -TERM "$CUR_PID" 2>/dev/null
    set -- $CUR_STEP
    record "$1" "$2" interrupted 143 "$(awk -v s="$CUR_T0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')" "$3" \
      "the kit was stopped (TERM/INT) during this step"
  fi
  finish 143
}
trap interrupted TERM INT

echo "gpu_check: results in $OUT_DIR (work folder $WORK), deadline ${DEADLINE_S}s"
$KIT init --work "$WORK" --repo "$REPO" --deadline "$DEADLINE_S" --steps "$STEPS" >/dev/null 2>>"$RES/logs/summary.log"

# --- 0. setup: wheels for what the Python lacks, environment ---------------------------------------
t0=$(date +%s.%N)
{
  if "$PY" -c "import pydantic, cryptography, rfc8785, lm_eval, datasets" 2>/dev/null; then
    echo "all needed modules import already: .whl/ not installed"
  elif ls "$REPO"/.whl/*.whl >/dev/null 2>&1; then
    echo "installing $(ls "$REPO"/.whl/*.whl | wc -l) wheels from .whl/ into $SITE"
    timeout -k 5 90 "$PY" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile \
      --no-cache-dir --upgrade --target "$SITE" "$REPO"/.whl/*.whl
    pa=$("$PY" -c "import pyarrow; print(pyarrow.__version__.split('.')[0])" 2>/dev/null || echo 0)
    if [ "$pa" -lt 24 ] && ls "$REPO"/.whl/alt/datasets-*.whl >/dev/null 2>&1; then
      echo "pyarrow $pa < 24: installing $(basename "$REPO"/.whl/alt/datasets-*.whl) instead (needs pyarrow>=21)"
      timeout -k 5 60 "$PY" -m pip install -q --disable-pip-version-check --no-index --no-deps --no-compile \
        --no-cache-dir --upgrade --target "$SITE" "$REPO"/.whl/alt/datasets-*.whl
    fi
  else
    echo "no .whl/ folder: run scripts/gpu_wheels.sh first where pip can reach the registry"
  fi
} >"$RES/logs/0_setup.log" 2>&1
export PYTHONPATH="$REPO:$SITE${PYTHONPATH:+:$PYTHONPATH}"
( cd "$RES" && timeout -k 5 60 $KIT env --out env.json ) >>"$RES/logs/0_setup.log" 2>&1
rc=$?
dur=$(awk -v s="$t0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')
if [ $rc -eq 0 ]; then record 0 setup ok 0 "$dur" 150 ""
else record 0 setup failed $rc "$dur" 150 "$(tail -n 1 "$RES/logs/0_setup.log" | cut -c1-300)"; fi

HAVE_GPU=0
NO_GPU_WHY="GPU_CHECK_FORCE_CPU=1"
if [ "${GPU_CHECK_FORCE_CPU:-0}" != 1 ]; then
  NO_GPU_WHY="no NVIDIA GPU: nvidia-smi is missing or lists no GPU"
  if command -v nvidia-smi >/dev/null 2>&1 && timeout 20 nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then HAVE_GPU=1; fi
fi
[ $HAVE_GPU = 1 ] || echo "gpu_check: $NO_GPU_WHY; running the CPU-only steps"
gpu_step() {  # like step, but skipped without a GPU
  if [ $HAVE_GPU = 1 ]; then step "$@"; else skip "$1" "$2" "$NO_GPU_WHY"; return 1; fi
}
# steps 5 and 7: the real sizes on a GPU; a tiny model on the CPU when rehearsing
DEV=cuda DT=bfloat16 CFG8=llama-3.1-8b CFG1=llama-3.2-1b P=512 O=64 B=16 HAS_GPU_5_7=$HAVE_GPU
E2E_WL="$REPO/scripts/gpu_kit/e2e-workload.yaml" E2E_LIMIT=""
if [ "${GPU_CHECK_REHEARSE:-0}" = 1 ]; then
  DEV=cpu DT=float32 CFG8="$REPO/scripts/gpu_kit/tiny-rehearsal.json" CFG1=$CFG8 P=64 O=8 B=2 HAS_GPU_5_7=1
  # step 7's run with fewer, shorter requests and 4 items per task: the plumbing, not the numbers, is rehearsed
  E2E_WL="$WORK/e2e-workload-rehearsal.yaml" E2E_LIMIT="--limit 4"
  sed -e 's/input_len: 256/input_len: 32/' -e 's/output_len: 32/output_len: 4/' -e 's/num_prompts: 16/num_prompts: 4/' \
    -e 's/num_requests: 8/num_requests: 4/' "$REPO/scripts/gpu_kit/e2e-workload.yaml" > "$E2E_WL"
  echo "gpu_check: rehearsal: steps 5 and 7 run on the CPU with a tiny model"
fi
gpu57_step() { if [ $HAS_GPU_5_7 = 1 ]; then step "$@"; else skip "$1" "$2" "$NO_GPU_WHY"; return 1; fi; }

# --- 1. inventory ---------------------------------------------------------------------------------
if wanted 1a; then gpu_step 1a nvidia_smi 20 bash -c 'nvidia-smi -q > nvidia-smi-q.txt && nvidia-smi -L > nvidia-smi-L.txt'; fi
step 1b hw_report 45 "$PY" -m benchseal hw --out hw.json
if wanted 1c; then
  gpu_step 1c nvml_fixture 40 bash -c "$PY '$REPO/scripts/record_nvml_fixture.py' --redact . && $KIT fixture-check --hardware hw.json"
fi

# --- 3. microbenchmark ----------------------------------------------------------------------------
if wanted 3; then gpu_step 3 microbench 75 bash -c "$PY -m benchseal hw --microbench --json > hw-microbench.json"; fi

# --- 4. telemetry ---------------------------------------------------------------------------------
if wanted 4; then gpu_step 4 telemetry 45 $KIT telemetry --out telemetry.json; fi

# --- 5. MFU / MBU on a random-weight Llama-3.1-8B -------------------------------------------------
if wanted 5; then
  HWJ=hw-microbench.json; [ -s "$RES/$HWJ" ] || HWJ=hw.json
  if gpu57_step 5a model_8b_count 150 "$PY" "$REPO/scripts/gpu_validate_mfu.py" --config "$CFG8" --skip-hf-backend \
      --device $DEV --dtype $DT --save-model "$MODELS/model-8b" --hardware-json "$HWJ" --count-prompt-len $P \
      --output-len $O --batch $B --batch-prompt-len $P --out mfu-8b.json; then
    if step 5b perf_8b 150 "$PY" -m benchseal perf --backend hf --model "$MODELS/model-8b" --device $DEV \
        --dtype $DT --input-len $P --output-len $O --num-prompts 16 --concurrency 1,4 --num-requests 4 \
        --warmup 1 --out perf-8b --json --no-progress; then
      step 5c mfu_compare 45 $KIT mfu-compare --perf perf-8b --model "$MODELS/model-8b" --hardware "$HWJ" \
        --dtype $DT --count mfu-8b.json --out mfu-8b-compare.json
    else skip 5c mfu_compare "needs step 5b"; fi
  elif [ $HAS_GPU_5_7 = 1 ]; then skip 5b perf_8b "needs step 5a"; skip 5c mfu_compare "needs step 5a"
  else skip 5b perf_8b "$NO_GPU_WHY"; skip 5c mfu_compare "$NO_GPU_WHY"; fi
  rm -rf "$MODELS/model-8b"
fi

# --- 6. perf client --workers scaling (CPU only) --------------------------------------------------
if wanted 6; then
  if [ $HAVE_GPU = 1 ]; then W=${GPU_CHECK_WORKERS:-1,2,4,8}; N=${GPU_CHECK_WORKER_REQUESTS:-4000}
  else W=${GPU_CHECK_WORKERS:-1,2}; N=${GPU_CHECK_WORKER_REQUESTS:-300}; fi
  step 6 workers 75 $KIT workers --workers "$W" --requests "$N" --out workers.json
fi

# --- 7. benchseal run end to end, signed and verified ---------------------------------------------
if wanted 7; then
  if gpu57_step 7a model_1b 60 "$PY" "$REPO/scripts/gpu_validate_mfu.py" --config "$CFG1" --build-only \
      --device $DEV --dtype $DT --save-model "$MODELS/model-1b" --out model-1b.json; then
    export BENCHSEAL_KEY_PASSPHRASE="gpu-check-$$-$RANDOM$RANDOM"
    if step 7b keygen 30 bash -c "rm -rf '$WORK/keys' && $PY -m benchseal keygen --out '$WORK/keys' --json && cp '$WORK/keys/public.pem' e2e-public.pem"; then
      rm -rf "$RES/e2e-bundle"
      step 7c run_e2e 180 $KIT e2e -- hunan-2025 --model "$MODELS/model-1b" --backend hf --device $DEV \
        --dtype $DT --workload "$E2E_WL" --suite demo $E2E_LIMIT --key "$WORK/keys/private.pem" \
        --out e2e-bundle
      if [ -s "$RES/e2e-bundle/run.json" ]; then
        step 7d verify_e2e 60 "$PY" -m benchseal verify e2e-bundle --key "$WORK/keys/public.pem"
      else skip 7d verify_e2e "needs the bundle of step 7c"; fi
    else skip 7c run_e2e "needs step 7b"; skip 7d verify_e2e "needs step 7b"; fi
    unset BENCHSEAL_KEY_PASSPHRASE
  elif [ $HAS_GPU_5_7 = 1 ]; then for s in "7b keygen" "7c run_e2e" "7d verify_e2e"; do skip $s "needs step 7a"; done
  else for s in "7b keygen" "7c run_e2e" "7d verify_e2e"; do skip $s "$NO_GPU_WHY"; done; fi
  rm -rf "$MODELS/model-1b"
fi

# --- 2. the gpu tests (last: they repeat the microbenchmark and a smaller MFU validation) ---------
if wanted 2; then
  # only the files that hold gpu tests: collecting the whole suite would need packages the GPU image lacks
  GPU_TESTS=$(cd "$REPO" && grep -rlE --include='test_*.py' 'mark\.gpu\b' tests | sort | tr '\n' ' ')
  gpu_step 2 gpu_tests 180 bash -c "cd '$REPO' && BENCHSEAL_REQUIRE_GPU=1 $PY -m pytest -m gpu -q -p no:cacheprovider \
    --junitxml='$RES/gpu-tests.xml' $GPU_TESTS"
fi

echo "gpu_check: done in $(elapsed)s"
finish 0
