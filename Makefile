# Every target bootstraps .venv itself: python3 and make are all a new machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINT_STAMP := tools/cypher-lint/node_modules/.installed

.PHONY: run test lint bench cypher-lint clean schema browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(LINT_STAMP): tools/cypher-lint/package.json
	cd tools/cypher-lint && npm install --no-audit --no-fund --loglevel=error
	touch $(LINT_STAMP)

run: $(STAMP)
	$(BIN)/baton serve --seed

test: $(STAMP) $(LINT_STAMP) browser
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Debian's Chromium + ChromeDriver for the inbox page's browser test (as root, via apt).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "note: chromium could not be installed; the browser test will be skipped"

lint: $(STAMP) $(LINT_STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/mypy
	node tools/cypher-lint/lint.mjs cypher

cypher-lint: $(LINT_STAMP)
	node tools/cypher-lint/lint.mjs cypher

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/baton bench $(BENCH_ARGS)

schema: $(STAMP)
	$(BIN)/baton schema > schema.graphql

clean:
	rm -rf $(VENV) .baton tools/cypher-lint/node_modules
