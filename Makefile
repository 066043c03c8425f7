# The two commands of the Quick start: `make run` (the demo site) and `make test` (the whole suite).
# Everything is installed into .venv from PyPI; nothing else is needed on the machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Tests run in two processes (the machines this is built on have two cores).
PYTEST_WORKERS ?= 2

.PHONY: install run test demo clean lint messages

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/aftersales migrate --verbosity 0
	$(BIN)/aftersales demo --if-empty --seed 2026
	$(BIN)/aftersales serve --host $(HOST) --port $(PORT) --no-migrate

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

demo: install
	$(BIN)/aftersales demo --seed 2026

# Recompile the translation catalogs after editing a .po file (needs GNU gettext's msgfmt).
messages: install
	cd src/aftersales && ../../$(BIN)/aftersales makemessages -l zh_Hans -l en --no-obsolete && ../../$(BIN)/aftersales compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache
