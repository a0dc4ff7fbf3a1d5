# `make demo` and `make test` are all a fresh machine needs (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint wheel-test bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,examples,oracle,distributed]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/mlp.py

# Two processes (pytest-xdist), the JAX oracle included: its workers hand their counters to the
# controller, which judges the skip list once (tests/conftest.py). worksteal: an idle worker takes
# tests queued on the other, so one slow file at the end does not leave a core idle.
# TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
ifeq ($(TEST_WORKERS),0)
	$(PY) -m pytest
else
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal
endif

# ruff, pinned, from the package index into the project's venv (configuration: pyproject.toml).
RUFF_VERSION := 0.17.6
lint: $(STAMP)
	$(PY) -m pip install --quiet ruff==$(RUFF_VERSION)
	$(PY) -m ruff check jaxlite tests benchmarks examples .ci
	$(PY) -m ruff format --check jaxlite tests benchmarks examples .ci

# The wheel, installed into a fresh venv and used from outside the repository (what a user gets
# from `pip install .`): .ci/smoke_installed.py runs jit + grad + vmap there.
wheel-test:
	rm -rf dist build
	$(PYTHON) -m pip wheel --quiet --no-deps --wheel-dir dist .
	d=$$(mktemp -d) && $(PYTHON) -m venv $$d/venv && \
	$$d/venv/bin/python -m pip install --quiet dist/jaxlite-*.whl && \
	cp .ci/smoke_installed.py $$d/ && cd $$d && \
	JAXLITE_CACHE_DIR=$$d/cache $$d/venv/bin/python smoke_installed.py && rm -rf $$d

# ISA=avx2: every library limited to AVX2 (benchmarks/isa.py; an AVX2-only x86-64 emulated on an
# AVX-512 one); ISA=native: what each library picks on this CPU.
ISA ?= native
bench: $(STAMP)
	$(PY) benchmarks/run_all.py --isa $(ISA) $(if $(filter 1,$(CPU)),--cpu)

# The property tests with many more examples (see tests/conftest.py), and the differential
# fuzzer with FUZZ_EXAMPLES random programs per route (tests/test_fuzz.py), and the JAX oracle on
# every dtype and route with ORACLE_EXAMPLES more random inputs per item (tests/oracle/).
ORACLE_EXAMPLES ?= 5
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	JAXLITE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) JAXLITE_ORACLE_EXAMPLES=$(ORACLE_EXAMPLES) HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -x

clean:
	rm -rf $(VENV) build dist *.egg-info
