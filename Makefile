# RuangBK developer commands. `make run` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrate messages compose-check clean backup restore bench

# The virtualenv is rebuilt whenever a requirements file changes.
$(BIN)/.runtime-installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev-installed: $(BIN)/.runtime-installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py rescore_responses
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "RuangBK demo on http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	@echo "  school admin: admin · counselors: konselor1, konselor2 · students: siswa01 … siswa30"
	@echo "  password for all of them: ruangbk-demo"
	@echo "  session room open now: konselor1 with siswa03 (see either one's home page)"
	@echo ""
	$(BIN)/daphne -b $(HOST) -p $(PORT) --websocket-max-message-size 131072 --websocket-max-frame-size 131072 counseling_platform.asgi:application

test: $(BIN)/.dev-installed lint
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

# Every benchmark of bench/README.md (PostgreSQL, Redis; about 20 minutes). Not a test:
# it prints figures and fails only on errors, lost messages or missed targets.
bench: $(BIN)/.dev-installed
	bash bench/run

lint: $(BIN)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(BIN)/.runtime-installed
	$(BIN)/python manage.py migrate

# Encrypted backup of the database in DATABASE_URL into backups/ (or FILE=…), and its
# restore into an empty database (FORCE=1 replaces a non-empty one). Keys: docs/backups.md.
backup: $(BIN)/.runtime-installed
	$(BIN)/python manage.py backup_database $(if $(FILE),--output "$(FILE)")

restore: $(BIN)/.runtime-installed
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=backups/ruangbk-….backup [FORCE=1]"; exit 2; }
	$(BIN)/python manage.py restore_database "$(FILE)" $(if $(filter 1,$(FORCE)),--force)

# Refresh the Indonesian catalogue after changing user-facing strings (needs gettext).
# Message ids are English, so English needs no catalogue of its own.
messages: $(BIN)/.runtime-installed
	$(BIN)/python manage.py makemessages --locale id --ignore '.venv/*' --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

# Validates docker-compose.yml without a Docker engine (Debian's docker-compose).
compose-check:
	DJANGO_SECRET_KEY=compose-check POSTGRES_PASSWORD=compose-check \
		NOTES_ENCRYPTION_KEYS=compose-check TURN_SECRET=compose-check TURN_HOST=turn.example \
		docker-compose config --quiet

clean:
	rm -rf $(VENV) staticfiles test-db.sqlite3 .pytest_cache .ruff_cache
