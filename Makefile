# `make demo` and `make test` are all a fresh machine needs (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,examples]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/mlp.py

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# The property tests with many more examples (see tests/conftest.py), and the differential
# fuzzer with FUZZ_EXAMPLES random programs per route (tests/test_fuzz.py).
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	JAXLITE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -x

clean:
	rm -rf $(VENV) build *.egg-info
