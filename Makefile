# Everything a fresh clone needs: `make render` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEPS   := setup.cfg pyproject.toml handlers/layer/requirements.txt

.PHONY: render test lint bench local clean

$(STAMP): $(DEPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]' -r handlers/layer/requirements.txt
	@touch $@

render: $(STAMP)
	@$(BIN)/webhookctl render

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check webhookctl templates handlers tests

bench: $(STAMP)
	$(BIN)/python -m tests.bench

local: $(STAMP)
	$(BIN)/webhookctl local up

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
