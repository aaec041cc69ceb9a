# The two quick-start commands: `make demo` and `make test`.
# Both create .venv on first use (python3 -m venv + pip install -e '.[dev]'), nothing else by hand.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint schemas clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/reconciler demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check reconciler tests bench
	$(VENV)/bin/mypy reconciler

schemas: $(STAMP)
	$(VENV)/bin/reconciler schema export

clean:
	rm -rf $(VENV) .reconciler
