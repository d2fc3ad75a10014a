# The Baton app image; docker-compose.yml points it at Neo4j.
FROM python:3.11-slim
WORKDIR /srv/baton
COPY pyproject.toml README.md ./
COPY app ./app
COPY cypher ./cypher
COPY seeds ./seeds
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["baton", "serve", "--seed"]
