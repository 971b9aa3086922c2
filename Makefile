# Position Tracker: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV := DEBUG=1
# Tests run with DEBUG off, as in production, with a throwaway key.
TEST_ENV := DEBUG=0 SECRET_KEY=test-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz

.PHONY: install run demo test test-fast test-slow lint check browser clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "Chromium is missing: run 'sudo apt-get install chromium' for the browser tests."; \
		fi; \
	fi

# The port `make run` serves on: PORT=8101 make run.
PORT ?= 8000

demo: install
	$(DEV) $(BIN)/python manage.py migrate --no-input --verbosity 0
	$(DEV) $(BIN)/python manage.py load_demo
	$(DEV) $(BIN)/python manage.py ensure_admin

# The background worker (big admin imports) runs beside the server and stops with it.
run: demo
	@echo "Serving Position Tracker at http://127.0.0.1:$(PORT) (admin: http://127.0.0.1:$(PORT)/admin/)"
	@$(DEV) $(BIN)/python manage.py db_worker --no-reload -v0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Every test but the exhaustive (`slow`) runs; HYPOTHESIS_PROFILE=ci|thorough for other
# numbers of generated examples (tests/conftest.py).
test: install browser
	$(TEST_ENV) $(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

# Without the browser tests, for a quick loop.
test-fast: install
	$(TEST_ENV) $(BIN)/pytest -m "not browser and not slow" $(PYTEST_ARGS)

# The exhaustive runs only: the page fuzzing with many examples.
test-slow: install
	$(TEST_ENV) $(BIN)/pytest -m slow $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

# The benchmark (BENCHMARKS.md): generates the synthetic data set if the database has none,
# then measures every page against /healthz. On its own SQLite file by default (a small data
# set); for the full million statements: DATABASE_URL=postgres://... make bench. Needs Redis
# (the cache it empties between cold requests is the server's): set CACHE_URL to change it.
# The commands live in the development app bench/, installed only by bench.settings.
BENCH_ENV := DJANGO_SETTINGS_MODULE=bench.settings \
	DEBUG=0 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=127.0.0.1 \
	SECRET_KEY=bench-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	DATABASE_URL=$${DATABASE_URL:-sqlite:///$(CURDIR)/bench.sqlite3} \
	CACHE_URL=$${CACHE_URL:-redis://127.0.0.1:6379/0} CACHE_KEY_PREFIX=$${CACHE_KEY_PREFIX:-bench}

bench: install
	$(BENCH_ENV) $(BIN)/python manage.py migrate --no-input -v0
	$(BENCH_ENV) $(BIN)/python manage.py bench --generate $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
