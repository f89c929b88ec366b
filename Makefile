# The two commands a new machine needs: `make run` and `make test`.
# Each one sets up what it needs: the virtualenv, the packages, Kafka's jars, the broker.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench evaluate kafka-up kafka-down kafka-status venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: the main job on the embedded defaults (broker, worker, sample logs, report)
run: venv
	scripts/run-demo

## test: lint-free code and the whole test suite against a real Kafka broker
test: venv
	scripts/run-tests

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	scripts/run-benchmarks

## evaluate: detection quality of a simulated week through the worker, against a uniform configuration
evaluate: venv
	$(BIN)/python benchmarks/eval_detection.py

kafka-up: venv
	$(BIN)/ledger kafka up

kafka-down: venv
	$(BIN)/ledger kafka down

kafka-status: venv
	$(BIN)/ledger kafka status

clean:
	-$(BIN)/ledger kafka down
	rm -rf .ledger
