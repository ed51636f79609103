# Everything a fresh clone needs: `make demo` and `make test` build the
# virtual environment themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# AgentScope 1.x cannot share an environment with 2.x: a second one.
VENV1 ?= .venv-agentscope1
STAMP1 := $(VENV1)/.installed
# The `praisonai` wrapper (scheduler, ...) pins a newer openai than Hermes
# Agent allows: a third one, for tests/praisonai_platform.
VENVP ?= .venv-praisonai
STAMPP := $(VENVP)/.installed

# The provider-level GenAI instrumentations (official ones on
# opentelemetry-util-genai, OpenLLMetry's) beside the runtimes: a fourth one,
# so their pins never move the main environment's (tests/genai_stack).
VENV_GENAI ?= .venv-genai
STAMP_GENAI := $(VENV_GENAI)/.installed
# opentelemetry-instrumentation-openai-v2 needs opentelemetry-util-genai
# <= 1.1b0, which the one above replaces: a fifth one (tests/genai_legacy).
# Cheap to build: the main environment, added by a .pth file, plus the two
# packages of requirements-genai-legacy.txt installed without dependencies.
VENV_LEGACY ?= .venv-genai-legacy
STAMP_LEGACY := $(VENV_LEGACY)/.installed
# The same provider instrumentations beside AgentScope 1.x: a sixth one
# (tests/genai_agentscope1), built as cheaply on the AgentScope 1.x
# environment: read through a .pth file, plus the packages of
# requirements-genai-agentscope1.txt installed without dependencies.
VENV_GENAI1 ?= .venv-genai-agentscope1
STAMP_GENAI1 := $(VENV_GENAI1)/.installed

.PHONY: demo test lint bench clean matrix matrix-ci matrix-readme docs fresh-env

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

$(STAMPP): pyproject.toml requirements-praisonai.txt
	$(PYTHON) -m venv $(VENVP)
	$(VENVP)/bin/pip install --quiet --upgrade pip
	$(VENVP)/bin/pip install --quiet -r requirements-praisonai.txt
	$(VENVP)/bin/pip install --quiet -e ".[testing]"
	touch $(STAMPP)

$(STAMP_GENAI): pyproject.toml requirements-dev.txt requirements-genai.txt
	$(PYTHON) -m venv $(VENV_GENAI)
	$(VENV_GENAI)/bin/pip install --quiet --upgrade pip
	$(VENV_GENAI)/bin/pip install --quiet -r requirements-genai.txt
	$(VENV_GENAI)/bin/pip install --quiet -e ".[testing,genai]"
	touch $(STAMP_GENAI)

# $(call layered_venv,BASE,VENV,REQUIREMENTS): a new VENV that reads the BASE
# environment's packages through a .pth file, plus REQUIREMENTS installed
# without dependencies (seconds, where a full install takes minutes).
define layered_venv
	$(PYTHON) -m venv $(2)
	$(1)/bin/python -c "import sysconfig; print('import site; site.addsitedir(%r)' % sysconfig.get_paths()['purelib'])" \
		> "$$($(2)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/zz_base_venv.pth"
	$(2)/bin/pip install --quiet --no-deps -r $(3)
endef

$(STAMP_LEGACY): $(STAMP) requirements-genai-legacy.txt
	$(call layered_venv,$(VENV),$(VENV_LEGACY),requirements-genai-legacy.txt)
	touch $(STAMP_LEGACY)

$(STAMP_GENAI1): $(STAMP1) requirements-genai-agentscope1.txt
	$(call layered_venv,$(VENV1),$(VENV_GENAI1),requirements-genai-agentscope1.txt)
	touch $(STAMP_GENAI1)

demo: $(STAMP)
	$(BIN)/python examples/agentscope_demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks scripts tests_e2e

test: $(STAMP) $(STAMP1) $(STAMPP) $(STAMP_GENAI) $(STAMP_LEGACY) $(STAMP_GENAI1) lint
	$(BIN)/python -m pytest tests -q
	$(VENVP)/bin/python -m pytest tests/praisonai_platform -q
	$(VENV_GENAI)/bin/python -m pytest tests/genai_stack -q
	$(VENV_LEGACY)/bin/python -m pytest tests/genai_legacy -q
	$(VENV_GENAI1)/bin/python -m pytest tests/genai_agentscope1 -q
	$(VENV1)/bin/python -m pytest tests/agentscope1 tests/core tests/testing tests/content tests/metrics tests/semconv tests/coverage tests/stress -q

# Not part of `make test`: prints the tables of benchmarks/README.md (15-18 min).
bench: $(STAMP) $(STAMP1)
	$(BIN)/python benchmarks/run.py --memory 2>/dev/null
	$(VENV1)/bin/python benchmarks/run.py --memory-only 2>/dev/null

clean:
	rm -rf $(VENV) $(VENV1) $(VENVP) $(VENV_GENAI) $(VENV_LEGACY) $(VENV_GENAI1) $(VENV_PHOENIX) $(TOOLS) $(VENV_DOCS) .matrix site

# The documentation site (mkdocs.yml, docs/), built with --strict in an
# environment of its own (MkDocs and mkdocs-material only).
VENV_DOCS ?= .venv-docs
DOCS_STAMP := $(VENV_DOCS)/.installed

$(DOCS_STAMP): requirements-docs.txt
	$(PYTHON) -m venv $(VENV_DOCS)
	$(VENV_DOCS)/bin/pip install --quiet -r requirements-docs.txt
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV_DOCS)/bin/mkdocs build --strict --site-dir site

# The compatibility matrix (scripts/matrix.py): Python 3.11-3.13 x runtime
# line x newest / oldest claimed / today's pins, one uv-built environment per
# cell under .matrix/. `matrix` runs all 21 cells (about an hour on 2 cores),
# `matrix-ci` the ones .ci/run runs, `matrix-readme` writes docs/compatibility.md's table
# from the last results.
TOOLS ?= .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed

$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv>=0.13,<0.14"
	touch $(TOOLS_STAMP)

matrix: $(TOOLS_STAMP)
	$(TOOLS)/bin/python scripts/matrix.py

matrix-ci: $(TOOLS_STAMP)
	$(TOOLS)/bin/python scripts/matrix.py --ci

# The README followed in fresh environments outside the repository: the
# wheel with each runtime's extra and opentelemetry-distro, one zero-code run
# per runtime against the standalone scripted server (scripts/fresh_env.py;
# about 1.5 minutes with a warm uv cache).
fresh-env: $(TOOLS_STAMP)
	$(TOOLS)/bin/python scripts/fresh_env.py

matrix-readme: $(TOOLS_STAMP)
	$(TOOLS)/bin/python scripts/matrix.py --readme

# Arize Phoenix, the backend of the end-to-end tests, gets an environment of
# its own (its releases need mcp>=2.3, which AgentScope 2.0.10 does not
# accept; it also needs Python 3.11+). The two talk OTLP/HTTP over 127.0.0.1.
PYTHON_PHOENIX ?= $(PYTHON)
VENV_PHOENIX ?= .venv-phoenix
PHOENIX_STAMP := $(VENV_PHOENIX)/.installed
PHOENIX_ENV := PHOENIX_PYTHON=$(abspath $(VENV_PHOENIX))/bin/python

.PHONY: e2e screenshot phoenix

$(PHOENIX_STAMP): requirements-phoenix.txt
	$(PYTHON_PHOENIX) -m venv $(VENV_PHOENIX)
	$(VENV_PHOENIX)/bin/pip install --quiet --upgrade pip
	$(VENV_PHOENIX)/bin/pip install --quiet -r requirements-phoenix.txt
	touch $(PHOENIX_STAMP)

# The demos' traces read back from a real Phoenix server (started and stopped
# by the tests, offline, in a temporary directory).
e2e: $(STAMP) $(PHOENIX_STAMP)
	$(PHOENIX_ENV) $(BIN)/python -m pytest tests_e2e -q

# Regenerates docs/phoenix-trace.png (needs Chromium: apt-get install -y chromium).
screenshot: $(STAMP) $(PHOENIX_STAMP)
	$(PHOENIX_ENV) $(BIN)/python scripts/screenshot_phoenix.py

# A Phoenix server on http://127.0.0.1:6006 until Ctrl-C; then, in another
# shell: .venv/bin/python examples/phoenix_demo.py
phoenix: $(STAMP) $(PHOENIX_STAMP)
	$(PHOENIX_ENV) $(BIN)/python scripts/phoenix_server.py
