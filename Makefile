# elektra-web: `make demo` and `make test` work on a fresh machine with python3, node and git.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := tests/js/node_modules/.installed

.PHONY: install postgresql demo test lint typecheck unit browser bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# jszmq: an independent ZWS 2.0 client the tests drive clusterd with.
$(NODE_STAMP): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --silent
	touch $(NODE_STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; never a downloaded browser).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# Debian's python3-zmq (libzmq 4.3.4): the tests drive clusterd's sockets with libzmq's own
# ws:// transport under /usr/bin/python3, next to jszmq.
SYSTEM_PYZMQ := /usr/lib/python3/dist-packages/zmq/__init__.py
$(SYSTEM_PYZMQ):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-zmq >/dev/null

# preact, its hooks and htm: copied from npm into the web client's static/vendor/.
WEB := src/elektraweb/web
WEB_STAMP := $(WEB)/static/vendor/.installed
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json $(STAMP)
	npm ci --prefix $(WEB) --no-audit --no-fund --silent
	$(BIN)/python -m elektraweb.web.assets
	touch $(WEB_STAMP)

# Debian's PostgreSQL: clusterd's replicas share one database, and the tests start a throwaway
# server of their own from its binaries (tests/support/postgres.py).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

install: $(STAMP) $(NODE_STAMP) $(WEB_STAMP) $(CHROMIUM) $(SYSTEM_PYZMQ) postgresql

demo: install
	$(BIN)/elektra-web demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest --ignore=tests/web

# Playwright's sync API keeps its own event loop running in the main thread, so the browser
# tests get a pytest process of their own instead of sharing one with the asyncio tests.
browser: install
	$(BIN)/pytest tests/web

test: lint typecheck unit browser

bench: install
	$(BIN)/python bench/kdb.py
	$(BIN)/python bench/elektrad.py
	$(BIN)/python bench/clusterd.py
	$(BIN)/python bench/webui.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/security.py
	$(BIN)/python bench/durable_floor.py
	$(BIN)/python bench/peer.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
