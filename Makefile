# The two commands of the README:
#   make book   build the website into _build/html
#   make test   run every test: the unit tests and every notebook (quick mode by default)
# Both create the virtual environment .venv on first use.

PYTHON ?= python3

# A training step frees and re-allocates the same large buffers. By default glibc gives a
# large freed buffer back to the kernel and asks for fresh pages on the next step; these
# keep freed buffers in the process (narrow VGG-11 steps 14% faster at 32 px, 43% at
# 224 px on the book's CPU: benchmarks/allocator.py). Linux/glibc only; ignored elsewhere.
export MALLOC_MMAP_THRESHOLD_ ?= 17179869184
export MALLOC_TRIM_THRESHOLD_ ?= 17179869184
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test test-full test-other-cpu print-other-cpu gpu-check unit lint format notebooks bench-deps performance practice repository mathjax site-test mutate clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt -c constraints.txt
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going

# BOOK_QUICK=0 make test re-executes the notebooks with their full budgets.
test: $(STAMP)
	BOOK_QUICK=$${BOOK_QUICK:-1} $(BIN)/python -m pytest --nbval

# Every chapter under its full CPU budget, one notebook at a time under nbval, each run recorded in
# benchmarks/results/notebook-times.json (about 35 minutes on 2 cores). Run it after any change to
# helpers/ or to a notebook's code; a scheduled workflow runs it weekly.
test-full: $(STAMP)
	$(BIN)/python tools/test_full.py

# The notebooks' compared outputs must not depend on the CPU they run on. CI runs `make test` under
# OTHER_CPU (generic ATen kernels, oneDNN and MKL limited to AVX2, 3 threads), so that an output that
# holds only on the machine that stored it fails there too. test-other-cpu adds a second, stricter
# configuration: oneDNN switched off (convolutions through NNPACK, as on some ARM machines), 1 thread.
OTHER_CPU := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 OMP_NUM_THREADS=3
print-other-cpu:
	@echo $(OTHER_CPU)
test-other-cpu: $(STAMP)
	$(OTHER_CPU) BOOK_QUICK=1 $(BIN)/python -m pytest --nbval notebooks
	ipython=$$(mktemp -d) && mkdir -p $$ipython/profile_default/startup && \
	cp tests/other_cpu_startup.py $$ipython/profile_default/startup/ && \
	IPYTHONDIR=$$ipython ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 BOOK_QUICK=1 $(BIN)/python -m pytest --nbval notebooks

# The GPU run, prepared: every chapter under its GPU budget and both benchmarks on CUDA, one JSON
# (benchmarks/results/gpu-check.json). Needs a CUDA GPU; meant to finish in under 10 minutes.
gpu-check: bench-deps
	$(BIN)/python tools/gpu_check.py

unit: $(STAMP)
	$(BIN)/python -m pytest tests

# The house style, checked (CI runs it before the tests; configuration in pyproject.toml):
# ruff's linter and formatter over everything, the chapters included (ruff reads .ipynb),
# and mypy over helpers/. `make format` fixes what can be fixed automatically.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Format and auto-fix, everything or one notebook: make format [NB=notebooks/02_x.ipynb].
# Only sources change: a notebook is not re-executed and its stored outputs stay as they
# are (layout only). What is left is fixed by hand: `make lint` lists it (long strings
# split, long comments rewrapped; `# fmt: skip` on a table literal the formatter explodes).
# Then check the chapter as CI does: BOOK_QUICK=1 $(BIN)/python -m pytest --nbval $(NB)
format: $(STAMP)
	$(BIN)/ruff format $(or $(NB),.)
	$(BIN)/ruff check --fix $(or $(NB),.)
	$(BIN)/ruff format $(or $(NB),.)

# Mutation testing (slow, not in CI): plant one small bug at a time in helpers/ and count the
# ones the unit tests catch. make mutate [MODULE=ops]; configuration in pyproject.toml [tool.mutmut].
# ulimit: a mutant that allocates too much fails with MemoryError instead of summoning the OOM killer.
mutate: $(STAMP)
	ulimit -v 16000000; OMP_NUM_THREADS=1 $(BIN)/mutmut run $(if $(MODULE),"helpers.$(MODULE).*")
	$(BIN)/python tools/mutation_score.py

# Re-execute notebooks in full mode and store their outputs: make notebooks [NB=notebooks/01_x.ipynb]
notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NB)

# The practice edition: practice/<chapter>.ipynb from each chapter's marked exercises
# (tools/practice.py; tests/test_practice.py fails while it is out of date, and
# tests/practice_plugin.py runs its checks inside each chapter's nbval kernel).
practice: $(STAMP)
	$(BIN)/python tools/practice.py

# A fork points the book at itself: make repository URL=https://github.com/<owner>/<repo>
# (_config.yml, every setup cell, the practice notebooks, pyproject.toml, the README).
repository: $(STAMP)
	@test -n "$(URL)" || { echo "usage: make repository URL=https://github.com/<owner>/<repo>"; exit 2; }
	$(BIN)/python tools/set_repository.py "$(URL)"

# d2l, the textbook's package, for tests/test_parity_d2l.py and benchmarks/trainers.py only.
# Its pinned requirements would downgrade numpy and matplotlib, so it comes without them,
# plus the modules it imports; it is never a dependency of the book itself.
bench-deps: $(STAMP)
	$(BIN)/python -m pip install pandas scipy -c constraints.txt
	$(BIN)/python -m pip install --no-deps d2l==1.0.3

# The Performance page: measure (both benchmarks write benchmarks/results/*.json), then re-run the page.
# Chapter times come from tools/run_notebooks.py, which records every run (make notebooks).
performance: bench-deps
	$(BIN)/python benchmarks/trainers.py --device cpu --json benchmarks/results/trainers-cpu.json
	$(BIN)/python benchmarks/memory.py --device cpu --steps 2 --json benchmarks/results/memory-cpu.json
	$(BIN)/python tools/run_notebooks.py notebooks/12_performance.ipynb

# MathJax 3 from the npm registry, for a site that typesets math without a CDN.
MATHJAX := .cache/mathjax/node_modules/mathjax/es5
$(MATHJAX)/tex-mml-chtml.js:
	npm install --no-audit --no-fund --prefix .cache/mathjax mathjax@3.2.2
mathjax: $(MATHJAX)/tex-mml-chtml.js

# The website in a real browser: build it with the local MathJax, then open every page in
# headless Chromium (Debian's chromium + chromium-driver; see tests/browser/).
site-test: $(STAMP) $(MATHJAX)/tex-mml-chtml.js
	rm -rf _build/html
	BOOK_MATHJAX=$(MATHJAX) $(BIN)/jupyter-book build . --warningiserror --keep-going
	$(BIN)/python -m pytest tests/browser -v

clean:
	rm -rf _build
