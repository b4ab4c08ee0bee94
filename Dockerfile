# Guichet vert app image: `guichet serve` by default; the same image runs `chroma run` and the
# one-shot set-up jobs (see compose.yaml and README.md, "Deployment").
# Not built where the project is developed (no Docker there): a starting point, see the README.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GUICHET_HOME=/data \
    GUICHET_HOST=0.0.0.0 \
    GUICHET_PORT=7860

# libgomp1: OpenMP runtime that compiled numeric wheels may load
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/guichet guichet \
    && mkdir -p /data /chroma && chown guichet:guichet /data /chroma

WORKDIR /app
COPY pyproject.toml README.md app.py ./
COPY assistant ./assistant
COPY corpus ./corpus
# editable install: the bundled sample corpus and the analyser's data files stay under /app
RUN pip install -e . "psycopg[binary]>=3.1"

USER guichet
VOLUME ["/data"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/sante', timeout=4)"
CMD ["guichet", "serve", "--no-ingest"]
