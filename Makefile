# Quick start: `make demo` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test fuzz lint docs bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[plot]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[test,plot,docs]"
	touch $@ $(VENV)/.installed $(VENV)/.installed-docs

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[docs]"
	touch $@

# The main job: a cross-validated L2 logistic path on the embedded breast-cancer data
# (table on stdout, figures in out/), then the gradient checks and a λ conversion.
demo: $(VENV)/.installed
	$(BIN)/regjax sweep --out out
	$(BIN)/regjax check
	$(BIN)/regjax convert 1.0 --from ng --to all --m 100 --n 10 --lr 0.1

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench notebooks docs
	$(BIN)/ruff format --check src tests bench notebooks docs
	$(BIN)/mypy

# The documentation site, into site/ (mkdocs.yml; warnings are errors). Browse it with
# `python3 -m http.server -d site`.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The headless browser that tests/test_docs.py opens the built site in: Debian's
# Chromium, installed when missing (as root, or through sudo).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

# lint, the strict docs build, then one pytest worker per core, a test file to a worker
# (its study runs once); tests/test_docs.py checks the built site in Chromium. The 15
# slowest tests are listed at the end: make test must stay under 15 minutes on 2 cores.
test: lint docs /usr/bin/chromium
	$(BIN)/python -m pytest -n auto --dist loadfile --durations=15

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e ".[bench]"
	touch $@

# Every benchmark at full size, each rewriting its section of bench/RESULTS.md with the
# machine it ran on. Run it on a quiet machine (it takes tens of minutes).
bench: $(VENV)/.installed-bench
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Every benchmark at CI size, recording nothing (under 5 minutes): do they all still run?
bench-quick: $(VENV)/.installed-bench
	for script in bench/bench_*.py; do $(BIN)/python $$script --quick --no-record || exit 1; done

# Before a release: every hypothesis property (tests/test_properties.py and the others,
# `-m hypothesis`) with 2000 fresh random cases each instead of make test's 25 (the
# "fuzz" profile in tests/conftest.py; a test with its own max_examples keeps it),
# one pytest worker per core.
fuzz: $(VENV)/.installed-test
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -n auto -m hypothesis tests

clean:
	rm -rf $(VENV) build site .cache/mkdocs-jupyter src/*.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
