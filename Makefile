# Every target bootstraps .venv itself: python3 and make are all a new machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions with hashes for Python 3.11 on Linux x86_64, written by `make lock` from
# pyproject.toml. BENCH_LOCK (runtime + dev + bench) is resolved first; LOCK (runtime + dev:
# the venv's) and APP_LOCK (runtime only: the Docker image's) take its pins, so `make bench`
# only adds packages to the venv and the image runs the versions the suite runs on.
LOCK := requirements.lock
BENCH_LOCK := requirements-bench.lock
APP_LOCK := requirements-app.lock
UV_VERSION := 0.13.9
LINT_STAMP := tools/cypher-lint/node_modules/.installed

NEO4J_STAMP := tools/neo4j/target/classpath.txt

.PHONY: run test test-falkordb test-neo4j lint bench cypher-lint clean schema browser neo4j lock graphiql

# The venv holds exactly the lock (re-installed when it changes) and the project itself with
# --no-deps, so nothing unpinned comes in; pip check fails when pyproject.toml asks for more
# than the lock has (then run `make lock`). The SDK (sdk/python, its own distribution
# baton-sdk: `baton agent run`, `baton mcp` and the demo use it) goes in the same way; its
# few dependencies are the server's too, so the lock has them.
SDK_DIR := sdk/python
$(STAMP): $(LOCK) pyproject.toml $(SDK_DIR)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e ./$(SDK_DIR)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check || { echo "$(LOCK) does not satisfy pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

# Regenerates the locks from pyproject.toml with uv, keeping the pins they already have
# (only what pyproject.toml added, dropped or no longer allows changes). To move pins:
# make lock LOCK_ARGS=--upgrade, or LOCK_ARGS='--upgrade-package redis'.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 \
  --python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" $(LOCK_ARGS)
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_COMPILE) pyproject.toml --extra dev --extra bench -o $(BENCH_LOCK)
	$(UV_COMPILE) pyproject.toml --extra dev -c $(BENCH_LOCK) -o $(LOCK)
	$(UV_COMPILE) pyproject.toml -c $(BENCH_LOCK) -o $(APP_LOCK)

$(LINT_STAMP): tools/cypher-lint/package.json
	cd tools/cypher-lint && npm install --no-audit --no-fund --loglevel=error
	touch $(LINT_STAMP)

run: $(STAMP)
	$(BIN)/baton serve --seed

# Neo4j 5.26 Community from Maven Central (Java 17 + Maven): built once, rebuilt on change.
$(NEO4J_STAMP): tools/neo4j/pom.xml tools/neo4j/src/main/java/baton/Neo4jLauncher.java
	@echo "building tools/neo4j (Neo4j 5.26 Community from Maven Central; first time ~150 MB)"
	mvn -q -B -DskipTests -f tools/neo4j/pom.xml package
	touch $(NEO4J_STAMP)

# Neo4j in the foreground on 127.0.0.1:7687 (Browser on :7474), data kept in .baton/neo4j.
neo4j: $(STAMP) $(NEO4J_STAMP)
	$(BIN)/baton neo4j --home .baton/neo4j --bolt-port 7687 --http-port 7474

# The whole suite on both backends: embedded FalkorDB, then a private Neo4j 5.26.
test: test-falkordb test-neo4j

test-falkordb: $(STAMP) $(LINT_STAMP) browser
	$(BIN)/python -m pytest -q --graph-backend=falkordb $(PYTEST_ARGS)

# tests/unit touch no graph: they run once, in the FalkorDB pass. NEO4J_SLICE may leave
# tests out of the Neo4j pass (empty: the whole suite runs on Neo4j too).
NEO4J_SLICE ?=
test-neo4j: $(STAMP) $(LINT_STAMP) $(NEO4J_STAMP) browser
	$(BIN)/python -m pytest -q --graph-backend=neo4j --ignore=tests/unit $(NEO4J_SLICE) $(PYTEST_ARGS)

# Debian's Chromium + ChromeDriver for the browser tests (tests/browser: the inbox, GraphiQL).
# When they are missing and make runs as root with apt-get, it says what it installs and why,
# then installs them (system packages!); NO_APT=1 never installs (the browser tests skip).
BROWSER_PKGS := chromium chromium-driver
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ -z "$(NO_APT)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make browser: installing system packages with apt-get, as root: $(BROWSER_PKGS)"; \
	  echo "  (for the browser tests in tests/browser; make test NO_APT=1 skips this and them)"; \
	  { apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PKGS) >/dev/null && \
	    echo "make browser: installed $$(dpkg-query -W -f='$${Package} $${Version}  ' $(BROWSER_PKGS))"; } || \
	  echo "note: $(BROWSER_PKGS) could not be installed; the browser tests will be skipped"; \
	else \
	  echo "note: no chromium/chromedriver, and make installs them only as root with apt-get"; \
	  echo "  (sudo apt-get install $(BROWSER_PKGS)); the browser tests will be skipped"; \
	fi

lint: $(STAMP) $(LINT_STAMP)
	$(BIN)/ruff check app tests bench sdk
	$(BIN)/ruff format --check app tests bench sdk
	$(BIN)/mypy
	$(BIN)/mypy --config-file tools/mypy-tests.ini tests
	$(BIN)/mypy --config-file tools/mypy-tests.ini bench
	node tools/cypher-lint/lint.mjs cypher
	node tools/cypher-lint/lint.mjs tests/graph/cypher

cypher-lint: $(LINT_STAMP)
	node tools/cypher-lint/lint.mjs cypher
	node tools/cypher-lint/lint.mjs tests/graph/cypher

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) $(BENCH_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(BENCH_LOCK)
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/baton bench $(BENCH_ARGS)

# GraphiQL's bundle in app/api/static/graphiql/ (committed: `make run` needs no node) from
# the exact npm versions in tools/graphiql/package-lock.json; commit what it writes.
graphiql:
	cd tools/graphiql && npm ci --no-audit --no-fund --loglevel=error && npm run build

schema: $(STAMP)
	$(BIN)/baton schema > schema.graphql

clean:
	rm -rf $(VENV) .baton tools/cypher-lint/node_modules tools/graphiql/node_modules tools/neo4j/target
