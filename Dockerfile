# The Baton app image; docker-compose.yml points it at Neo4j.
FROM python:3.11-slim
WORKDIR /srv/baton
# The runtime dependencies exactly as locked (hash-checked), in their own layer; then the
# project itself with --no-deps, so nothing unpinned is pulled in.
COPY requirements-app.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-app.lock
COPY pyproject.toml README.md ./
COPY app ./app
COPY cypher ./cypher
COPY seeds ./seeds
RUN pip install --no-cache-dir --no-deps -e . && pip check
EXPOSE 8000
CMD ["baton", "serve", "--seed"]
