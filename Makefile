# The two commands a newcomer needs:
#   make run    start the local Neo4j, load a simulated platform if it is empty, report
#   make test   the whole test suite against a real local Neo4j
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup run test clean-test-db

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@scripts/check-prereqs
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

run: setup
	$(BIN)/ringscope up

test: setup
	@scripts/ensure-test-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean-test-db:
	-RINGSCOPE_HOME=$(CURDIR)/.test-neo4j RINGSCOPE_BOLT_PORT=7699 $(BIN)/ringscope db stop
	rm -rf .test-neo4j
