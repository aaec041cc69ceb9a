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

# Two workers, a file each at a time: the suite runs on both cores (the tests are
# independent: free ports, their own temp dirs and PostgreSQL schemas).
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check reconciler tests bench
	$(VENV)/bin/mypy reconciler

schemas: $(STAMP)
	$(VENV)/bin/reconciler schema export

clean:
	rm -rf $(VENV) .reconciler
