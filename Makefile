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

# pytest, then lit's report. lit runs beside pytest (its report, kept in a temporary
# file, is printed after pytest's), so neither waits on the other's last, single-core
# tests; the target fails when either fails. Tests marked with an xdist_group run on one
# worker (--dist loadgroup): the rule examples of one family share one XLA compilation.
test: $(STAMP)
	@log=$$(mktemp); \
	$(BIN)/lit -sv tests/filecheck >$$log 2>&1 & lit=$$!; \
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests; pytest_rc=$$?; \
	wait $$lit; lit_rc=$$?; \
	echo "lit -sv tests/filecheck:"; cat $$log; rm -f $$log; \
	test $$pytest_rc -eq 0 && test $$lit_rc -eq 0

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
