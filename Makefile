# `make demo` and `make test` each set everything up from scratch (a .venv, the pinned stack) and
# are idempotent: the install step re-runs only when pyproject.toml or constraints.txt changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: demo test lint typecheck unit core docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# One stamp per extra set, so `make demo` does not need the dev tools and `make test` reuses it.
$(VENV)/.stamp-train: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e ".[train]"
	touch $@

$(VENV)/.stamp-dev: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e ".[dev]"
	touch $@

# The main job: train the default CNN-LSTM on the built-in moving digits (~3-4 min on 2 cores);
# prints the test accuracy and the plots' paths. The run directory is replaced on each run.
demo: $(VENV)/.stamp-train
	$(VENV)/bin/timedist fit --data moving-digits --out runs/demo --overwrite

lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check src tests benchmarks .ci

typecheck: $(VENV)/.stamp-dev
	$(VENV)/bin/mypy src

# Two workers on 2 cores: the suite took 504 s instead of 785 s one after another (2026-12-05);
# worksteal: an idle worker takes tests queued for the other (the slow ones end the run).
unit: $(VENV)/.stamp-dev
	$(VENV)/bin/pytest -n 2 --dist worksteal

test: lint typecheck unit core docs

# The documentation site (user guide + API reference from the docstrings) into site/; --strict:
# a broken link, anchor or cross-reference fails (missing docstrings fail in the unit tests,
# tests/docs/test_docstrings.py).
$(VENV)/.stamp-docs: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e ".[docs]"
	touch $@

docs: $(VENV)/.stamp-docs
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir site

# The core install alone (no extras) in a virtual environment of its own: the estimators fit,
# save, load and predict without Lightning or matplotlib installed (~1 min the first time).
CORE_VENV ?= .venv-core
$(CORE_VENV)/.stamp: pyproject.toml constraints.txt
	test -x $(CORE_VENV)/bin/python || $(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip install --disable-pip-version-check -q -c constraints.txt -e .
	touch $@

core: $(CORE_VENV)/.stamp
	TIMEDIST_COMPILE=0 $(CORE_VENV)/bin/python .ci/core_install.py

# The peers (aeon) are a bench-only extra.
$(VENV)/.stamp-bench: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.stamp-dev $(VENV)/.stamp-bench
	$(PY) benchmarks/time_distributed.py
	$(PY) benchmarks/recurrent.py
	$(PY) benchmarks/conv_lstm.py
	$(PY) benchmarks/training.py
	$(PY) benchmarks/export.py
	$(PY) benchmarks/decoders.py
	$(PY) benchmarks/own_videos.py
	$(PY) benchmarks/own_data.py

clean:
	rm -rf $(VENV) $(CORE_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
