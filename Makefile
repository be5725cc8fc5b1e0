# The two commands: `make run` (Atelier, embedded) and `make test` (the whole suite).
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8000

.PHONY: install run test lint format migrate seed schema fuzz bench clean

$(STAMP): requirements/base.txt requirements/dev.txt requirements/prod.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt -r requirements/prod.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# Web server, Celery worker and beat together on SQLite with the file-system broker.
# Ctrl-C stops all three.
run: seed
	@echo ""
	@echo "  Atelier is starting on http://localhost:$(PORT)/"
	@echo "    back office  http://localhost:$(PORT)/admin/   (admin@example.com / Atelier-demo-1)"
	@echo "    health       http://localhost:$(PORT)/health/"
	@echo "    API docs     http://localhost:$(PORT)/api/docs/  and /api/redoc/"
	@echo "    demo users   moderator@, alice@, bob@example.com, same password"
	@echo ""
	PORT=$(PORT) HEALTH_REQUIRE_WORKER=true PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Schema fuzzing of every operation (schemathesis), FUZZ_MAX_EXAMPLES examples per operation.
FUZZ_MAX_EXAMPLES ?= 1000
fuzz: install
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) $(PY) -m pytest tests/hardening/test_schema_fuzz.py $(PYTEST_ARGS)

# Every benchmark in one go (PostgreSQL and Redis must be running); numbers go to var/bench/ and
# are summarised by hand in docs/performance.md.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/atelier_bench
bench: install
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) PY=$(PY) bench/run_all.sh

schema: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

clean:
	rm -rf $(VENV) var
