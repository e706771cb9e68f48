# Everything a fresh clone needs: `make render` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEPS   := setup.cfg pyproject.toml handlers/layer/requirements.txt
# checkov pins boto3 1.35 and the project needs 1.44, so it gets a venv of its own (inside .venv/, so
# `make clean` and .gitignore cover it); tests/templates/test_checkov.py runs it as a subprocess.
CHECKOV_VENV  := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_REQS  := tests/templates/checkov-requirements.txt

.PHONY: render test lint bench local clean bytecode

# pip's chatter goes to .venv/install.log and is shown only when the install fails.
$(STAMP): $(DEPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "setting up $(VENV) (log: $(VENV)/install.log)" >&2
	@{ $(BIN)/python -m pip install --disable-pip-version-check --upgrade pip && \
	   $(BIN)/python -m pip install --disable-pip-version-check -e '.[test]' -r handlers/layer/requirements.txt; \
	 } > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log >&2; exit 1; }
	@touch $@

$(CHECKOV_STAMP): $(CHECKOV_REQS)
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@echo "setting up $(CHECKOV_VENV) (log: $(CHECKOV_VENV)/install.log)" >&2
	@{ $(CHECKOV_VENV)/bin/python -m pip install --disable-pip-version-check --upgrade pip && \
	   $(CHECKOV_VENV)/bin/python -m pip install --disable-pip-version-check -r $(CHECKOV_REQS); \
	 } > $(CHECKOV_VENV)/install.log 2>&1 || { cat $(CHECKOV_VENV)/install.log >&2; exit 1; }
	@touch $@

# An editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE (set in many images and CI) Python would
# compile the package afresh on every start: about 8 ms of each command's 20 ms floor. compileall skips what is
# current (30 ms), the same .pycs a regular `pip install` writes.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q webhookctl templates handlers >/dev/null

render: bytecode
	@$(BIN)/webhookctl render

# CHECKOV_BIN makes the checkov test fail, not skip, if that venv is missing.
test: bytecode $(CHECKOV_STAMP)
	CHECKOV_BIN=$(abspath $(CHECKOV_VENV)/bin/checkov) $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check webhookctl templates handlers tests

bench: bytecode
	$(BIN)/python -m tests.bench

local: bytecode
	$(BIN)/webhookctl local up

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
