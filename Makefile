# The two commands of the README:
#   make book   build the website into _build/html
#   make test   run every test: the unit tests and every notebook (quick mode by default)
# Both create the virtual environment .venv on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test unit notebooks bench-deps performance mathjax site-test mutate clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt -c constraints.txt
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going

# BOOK_QUICK=0 make test re-executes the notebooks with their full budgets.
test: $(STAMP)
	BOOK_QUICK=$${BOOK_QUICK:-1} $(BIN)/python -m pytest --nbval

unit: $(STAMP)
	$(BIN)/python -m pytest tests

# Mutation testing (slow, not in CI): plant one small bug at a time in helpers/ and count the
# ones the unit tests catch. make mutate [MODULE=ops]; configuration in pyproject.toml [tool.mutmut].
# ulimit: a mutant that allocates too much fails with MemoryError instead of summoning the OOM killer.
mutate: $(STAMP)
	ulimit -v 16000000; OMP_NUM_THREADS=1 $(BIN)/mutmut run $(if $(MODULE),"helpers.$(MODULE).*")
	$(BIN)/python tools/mutation_score.py

# Re-execute notebooks in full mode and store their outputs: make notebooks [NB=notebooks/01_x.ipynb]
notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NB)

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
