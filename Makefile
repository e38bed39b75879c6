PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test demo bench lit pytest clean

# Create or update the virtual environment with zymase and its test dependencies.
venv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench,libs]"
	touch $(STAMP)

$(STAMP): pyproject.toml
	$(MAKE) venv

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests
	$(BIN)/lit -sv tests/filecheck

pytest: $(STAMP)
	$(BIN)/python -m pytest tests

lit: $(STAMP)
	$(BIN)/lit -v tests/filecheck

demo: $(STAMP)
	$(BIN)/python -m zymase.demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks --markdown BENCHMARKS.md

clean:
	rm -rf $(VENV) build src/*.egg-info
