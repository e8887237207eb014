# The two commands of the README: `make run` and `make test`.
# Everything they need is installed by the targets below, on a fresh machine.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PATROL_HOME ?= $(CURDIR)/var
export PATROL_HOME

.PHONY: run test install system-deps services lint bench clean train

# The venv is rebuilt when pyproject or the constraints change.
$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24" wheel
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	touch $@

install: $(BIN)/.installed

# Debian packages the tests use (redis-server, postgresql, chromium); idempotent.
system-deps:
	bash scripts/install-system.sh

run: install
	$(BIN)/patrol demo

# Starts real redis-server and PostgreSQL on loopback for the run and stops them after.
test: system-deps install
	$(BIN)/lint-imports
	eval "$$(bash scripts/services.sh start)" && $(BIN)/python -m pytest $(PYTEST_ARGS); \
	  rc=$$?; bash scripts/services.sh stop; exit $$rc

# `make bench SEARCH_POSTS=1000000`: the search bench at the issue's size (50,000 by default)
SEARCH_POSTS ?= 50000
bench: install
	PATROL_BENCH_SEARCH_POSTS=$(SEARCH_POSTS) $(BIN)/python -m bench

train: install
	$(BIN)/patrol train --data ../shared/datasets/labelled_posts.jsonl

clean:
	rm -rf $(VENV) var .pytest_cache
