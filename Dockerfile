# benchseal on the official vLLM OpenAI-compatible server image (CUDA, PyTorch and vLLM included).
#   docker build -t benchseal:0.1.0 .
#   docker run --rm --gpus all --ipc=host \
#     -v /models/my-model:/models/my-model:ro -v "$PWD/bundles:/bundles" -v "$PWD/keys:/keys:ro" \
#     -e BENCHSEAL_KEY_PASSPHRASE benchseal:0.1.0 \
#     run hunan-2025 --model /models/my-model --backend vllm-serve --out /bundles/run1 --key /keys/private.pem
# See docs/ci.md. The vLLM tag is pinned; change VLLM_TAG to move to another vLLM release.
ARG VLLM_TAG=v0.32.0

# Stage 1: build benchseal's wheel from this checkout (python -m build; pyproject.toml pins the backend).
FROM vllm/vllm-openai:${VLLM_TAG} AS wheel
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY benchseal ./benchseal
RUN python3 -m pip install --no-cache-dir "build==1.2.2.post1" \
 && python3 -m build --wheel --outdir /dist .

# Stage 2: the vLLM image plus benchseal (installed from the wheel, with lm-eval for the eval stage).
FROM vllm/vllm-openai:${VLLM_TAG}
COPY --from=wheel /dist /dist
RUN python3 -m pip install --no-cache-dir "$(ls /dist/benchseal-*.whl)[eval]" \
 && rm -rf /dist \
 && benchseal --version
# Models are mounted read-only at /models; bundles are written to /bundles; keys are mounted at /keys.
VOLUME ["/models", "/bundles"]
WORKDIR /bundles
# No hub downloads at run time: the model is the mounted folder, eval data comes with --data-dir.
ENV HF_HUB_OFFLINE=1 \
    HF_DATASETS_OFFLINE=1
ENTRYPOINT ["benchseal"]
CMD ["--help"]
