# Everything a fresh clone needs: `make render` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEPS   := setup.cfg pyproject.toml handlers/layer/requirements.txt

.PHONY: render test lint bench local clean

# pip's chatter goes to .venv/install.log and is shown only when the install fails.
$(STAMP): $(DEPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "setting up $(VENV) (log: $(VENV)/install.log)" >&2
	@{ $(BIN)/python -m pip install --disable-pip-version-check --upgrade pip && \
	   $(BIN)/python -m pip install --disable-pip-version-check -e '.[test]' -r handlers/layer/requirements.txt; \
	 } > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log >&2; exit 1; }
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
