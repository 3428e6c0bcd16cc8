#!/bin/sh
# Download the wheels the GPU machine's Python lacks into ./.whl/ (git-ignored, copied along with
# the working tree; scripts/gpu_check.sh installs them there with pip --no-index into /tmp/site).
#
#   sh scripts/gpu_wheels.sh            # run here (with network), before the device run
#
# Target: CPython 3.12, manylinux x86_64 (the GPU image: /opt/torch/.venv/bin/python3). What the image
# already has (torch, transformers, accelerate, peft, numpy, pandas, pyarrow, fsspec, huggingface-hub,
# sacrebleu, scikit-learn, jinja2, tqdm, xxhash, requests, aiohttp, ...) is not downloaded: see
# /work/.library/device/KINDS.md and docs/gpu-validation.md. One pinned version of each; the folder
# is emptied first so no stale second version can stop the install.
# Pure-Python packages published only as a source archive (rouge-score, sqlitedict, word2number)
# are built into wheels here with `pip wheel --no-deps`.
set -eu
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
DEST=.whl

# benchseal's own dependencies missing there
CORE="pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
typing-extensions==4.16.0 cryptography==50.0.2 cffi==2.1.1 pycparser==3.12 rfc8785==0.1.4 gmalg==1.1.2"
# lm-eval 0.4.13 (step 7's eval stage) and its Requires-Dist (no extras) missing there
EVAL="lm-eval==0.4.13 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 evaluate==0.4.6
pytablewriter==1.2.1 DataProperty==1.1.1 mbstrdecoder==1.1.5 pathvalidate==3.3.1 tabledata==1.3.5
tcolorpy==0.1.7 typepy==1.3.5 chardet==6.0.0.post1 pytz==2026.6 more-itertools==11.2.1 nltk==3.10.4"
SDIST_ONLY="rouge-score==0.1.2 sqlitedict==2.1.0 word2number==1.1"

rm -rf "$DEST"
mkdir -p "$DEST"
# shellcheck disable=SC2086
"$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform manylinux_2_34_x86_64 \
  -d "$DEST" $CORE $EVAL
# shellcheck disable=SC2086
"$PY" -m pip wheel -q --disable-pip-version-check --no-deps -w "$DEST" $SDIST_ONLY
# a hedge, not installed by default: datasets 5.2 asks for pyarrow>=24, 5.0 for pyarrow>=21; the kit
# installs this one over it when the image's pyarrow is older than 24
mkdir -p "$DEST/alt"
"$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
  -d "$DEST/alt" datasets==5.0.0
for w in "$DEST"/*.whl; do
  case "$w" in *-py3-none-any.whl|*-py2.py3-none-any.whl|*cp312*|*abi3*|*py312*) ;;
    *) echo "gpu_wheels: $w is not for CPython 3.12 / any" >&2; exit 1 ;;
  esac
done
# one version of each distribution
dups=$(ls "$DEST" | sed 's/-[0-9].*//' | tr 'A-Z-' 'a-z_' | sort | uniq -d)
if [ -n "$dups" ]; then echo "gpu_wheels: more than one version of: $dups" >&2; exit 1; fi
n=$(ls "$DEST"/*.whl | wc -l)
n=$((n + $(ls "$DEST"/alt/*.whl | wc -l)))
whl_kib=$(du -sk "$DEST" | cut -f1)
tree_kib=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
echo "gpu_wheels: $n wheels in $DEST: $((whl_kib / 1024)) MiB ($whl_kib KiB); working tree $((tree_kib / 1024)) MiB; together $(((whl_kib + tree_kib) / 1024)) MiB of the 64 MiB limit"
