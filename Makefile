# One command to install and run the demo, one to install and run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint examples clean

$(BIN)/itilmigrate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/itilmigrate

demo: install
	$(BIN)/itilmigrate demo itilmigrate-demo

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy itilmigrate

test: lint
	$(BIN)/pytest --cov --cov-report=term

examples: install
	set -e; for job in examples/*.job.yaml; do $(BIN)/itilmigrate run --no-progress $$job; done

clean:
	rm -rf $(VENV) itilmigrate-demo examples-output .pytest_cache .mypy_cache .ruff_cache \
		.hypothesis .coverage
