# The two quick-start commands: `make demo` and `make test`.
# Both create .venv on first use (python3 -m venv), nothing else by hand: `make demo` installs
# the package with its runtime dependencies only (pip install -e .), `make test` (and `lint`,
# `schemas`) adds the dev extra (pip install -e '.[dev]': pytest, ruff, mypy, …).
PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed

.PHONY: demo test lint schemas clean

$(VENV_PYTHON):
	$(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip

# What `reconciler` needs to run: the package and its dependencies, no dev extra.
$(RUNTIME_STAMP): pyproject.toml setup.py | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

# The dev extra holds the runtime too: the demo's stamp is made as well.
$(STAMP): pyproject.toml setup.py | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUNTIME_STAMP)

demo: $(RUNTIME_STAMP)
	$(VENV)/bin/reconciler demo

# Two workers, a file each at a time: the suite runs on both cores (the tests are
# independent: free ports, their own temp dirs and PostgreSQL schemas).
test: $(STAMP)
	$(VENV_PYTHON) -m pytest -q -n 4 --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(VENV)/bin/ruff check reconciler tests bench
	$(VENV)/bin/mypy reconciler

schemas: $(STAMP)
	$(VENV)/bin/reconciler schema export

clean:
	rm -rf $(VENV) .reconciler
