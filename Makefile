# The two commands a newcomer needs:
#   make run        start the local Neo4j, load a simulated platform if it is empty, detect, open the app
#   make test       the whole test suite against a real local Neo4j (what CI runs)
# and, while working:
#   make test-fast  the tests that need no database or browser (well under a minute)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup run test test-fast clean-test-db

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@scripts/check-prereqs
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	@touch $@

run: setup
	$(BIN)/ringscope up

test: setup
	@scripts/ensure-test-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not neo4j and not e2e and not slow" $(PYTEST_ARGS)

clean-test-db:
	-RINGSCOPE_HOME=$(CURDIR)/.test-neo4j RINGSCOPE_BOLT_PORT=7699 $(BIN)/ringscope db stop
	rm -rf .test-neo4j
