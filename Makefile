# Everything a fresh clone needs: `make demo` and `make test` build the
# virtual environment themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# AgentScope 1.x cannot share an environment with 2.x: a second one.
VENV1 ?= .venv-agentscope1
STAMP1 := $(VENV1)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -e ".[testing]"
	touch $(STAMP)

$(STAMP1): pyproject.toml requirements-agentscope1.txt
	$(PYTHON) -m venv $(VENV1)
	$(VENV1)/bin/pip install --quiet --upgrade pip
	$(VENV1)/bin/pip install --quiet -r requirements-agentscope1.txt
	$(VENV1)/bin/pip install --quiet -e ".[testing]"
	touch $(STAMP1)

demo: $(STAMP)
	$(BIN)/python examples/agentscope_demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks

test: $(STAMP) $(STAMP1) lint
	$(BIN)/python -m pytest tests -q
	$(VENV1)/bin/python -m pytest tests/agentscope1 tests/core tests/testing -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --memory

clean:
	rm -rf $(VENV) $(VENV1)
