# make demo | make test | make lint | make bench | make lab
# Needs only Python 3.11+ and make: the first run creates .venv and installs into it
# (the distribution chatlayer-toolkit, editable, with the dev and ngrok extras; the import is `toolkit`).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg

.PHONY: install demo test lint bench lab notebooks clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip uninstall -q -y toolkit 2>/dev/null || true  # the distribution's old name
	$(BIN)/python -m pip install -q -e '.[dev,ngrok]'
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

# Re-run every notebook and store its outputs (what nbval compares against).
notebooks: $(STAMP)
	$(BIN)/python notebooks/execute.py notebooks/*.ipynb

# As root (a container), Jupyter refuses to start without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) build *.egg-info tests/artifacts
