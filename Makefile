# Everything a fresh clone needs: `make demo` and `make test` build the
# virtual environment themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -e ".[testing]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/agentscope_demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest tests -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV)
