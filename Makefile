# Quayside: `make run` starts the app on a local SQLite database with demo data;
# `make test` runs the whole suite. Both create .venv on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
ARGS ?=

.PHONY: run test journey-watch screenshots bench bundle system-deps clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[test,bundle]'
	@touch $@

# Shared libraries Qt needs on a bare Debian/Ubuntu machine (root or sudo); skipped when present.
system-deps:
	@bash scripts/system-deps.sh

run: $(STAMP) system-deps
	$(PY) main.py $(ARGS)

# The tests start their own Xvfb for the journeys' real window (tests/conftest.py).
test: $(TEST_STAMP) system-deps
	$(PY) -m pytest -q --durations=15 $(ARGS)

# Watch one journey on your own screen (DISPLAY set): make journey-watch JOURNEY=tests/journeys/test_find_order.py
JOURNEY ?= tests/journeys
JOURNEY_PAUSE_MS ?= 400
journey-watch: $(TEST_STAMP) system-deps
	JOURNEY_PAUSE_MS=$(JOURNEY_PAUSE_MS) QT_QPA_PLATFORM=xcb $(PY) -m pytest -q -m journey $(JOURNEY) $(ARGS)

screenshots: $(TEST_STAMP) system-deps
	bash scripts/screenshots.sh

# The one-folder PyInstaller bundle in dist/quayside and the Linux tarball beside it (installer/README.md).
bundle: $(STAMP) system-deps
	$(PY) -m pip install -q -e '.[bundle]'
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller installer/quayside.spec
	bash installer/linux/make-tarball.sh

bench: $(STAMP)
	$(PY) -m bench $(ARGS)

clean:
	rm -rf $(VENV) screenshots .pytest-config build dist
