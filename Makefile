# make demo | make test | make lint | make bench | make lab
# Needs only Python 3.11+ and make: the first run creates .venv and installs into it
# (the distribution chatlayer-toolkit, editable, with the dev, ngrok and release extras; the import is `toolkit`).
# make docs builds the documentation site; make wheel-smoke checks the wheel as a user installs it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg

.PHONY: install demo test lint bench lab notebooks clean docs wheel-smoke

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip uninstall -q -y toolkit 2>/dev/null || true  # the distribution's old name
	$(BIN)/python -m pip install -q -e '.[dev,ngrok,release]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m toolkit demo

test: $(STAMP)
	$(BIN)/python -m pytest -rs tests notebooks $(NBVAL)

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests bench data
	$(BIN)/mypy --strict toolkit  # per-module exceptions: [tool.mypy] in pyproject.toml

bench: $(STAMP)
	$(BIN)/python -m bench

# The documentation site into docs/_build/html (installs the docs extra once); warnings are errors.
DOCS_STAMP := $(VENV)/.docs-stamp
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,ngrok,release,docs]'
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html
	$(BIN)/python docs/check_links.py docs/_build/html

# Build the sdist and wheel, check them, install the wheel in a fresh venv and run it there.
wheel-smoke: $(STAMP)
	PY=$(BIN)/python .ci/wheel-smoke

# Re-run every notebook and store its outputs (what nbval compares against).
notebooks: $(STAMP)
	$(BIN)/python notebooks/execute.py notebooks/*.ipynb

# As root (a container), Jupyter refuses to start without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) build dist *.egg-info tests/artifacts docs/_build
