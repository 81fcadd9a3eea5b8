# Two commands for a newcomer: `make sim` and `make test`. Both set themselves up.
# The newest Python the simulator runs on (3.11 or later), on PATH or in ~/.pyenv/versions:
# PYTHON=/path/to/python chooses one; PYTHON_VERSIONS=3.11 looks for that version only
# (with VENV=.venv-3.11 beside the usual .venv, as .ci/run does).
PYTHON_VERSIONS ?= 3.13 3.12 3.11
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for v in $(PYTHON_VERSIONS); do \
	for p in python$$v $(HOME)/.pyenv/versions/$$v.*/bin/python$$v; do \
		"$$p" -c "" 2>/dev/null && { echo "$$p"; exit 0; }; \
	done; done)
endif
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: sim test bench golden deps clean mosquitto mpy-cross node-deps web-deps chromium truth

# `make sim`: the badge page in the browser. `make sim ENGINE=circuitpython [CP=9.2.1]`: the
# official CircuitPython on an emulated RP2040 behind it; `make sim VIEW=terminal`: the
# terminal view instead of the page.
sim: $(STAMP) mpy-cross node-deps web-deps
	$(PY) -m sim $(if $(ENGINE),--engine $(ENGINE)) $(if $(CP),--cp $(CP)) $(if $(VIEW),--view $(VIEW))

# The tests run on every core (at most 4 workers; the browser tests share one worker and one
# Chromium); TEST_JOBS=0 runs them in this process.
TEST_JOBS ?= auto --maxprocesses=4 --dist loadgroup

test: $(STAMP) mosquitto mpy-cross node-deps web-deps chromium
	$(VENV)/bin/pytest -n $(TEST_JOBS)

# The badge firmware itself on the real CircuitPython (not part of `make test`): each
# version in its own process, side by side.
truth: $(STAMP) mosquitto mpy-cross node-deps
	PYTEST=$(VENV)/bin/pytest tests/truth/run

bench: $(STAMP) mpy-cross node-deps web-deps chromium
	$(PY) -m sim bench

# Regenerate the pixel-exact golden frames in tests/golden/ after a deliberate UI change.
golden: $(STAMP) mpy-cross
	BADGE_UPDATE_GOLDEN=1 $(VENV)/bin/pytest

deps: $(STAMP) mpy-cross node-deps web-deps

# The CircuitPython engine's npm package (rp2040js, pinned by package-lock.json), with the
# machine's Node.js. Without npm the engine's tests are skipped and say how to get it.
NODE_DIR := sim/engines/circuitpython/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed

node-deps: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		(cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed) || \
			echo "note: npm ci failed in $(NODE_DIR): the CircuitPython engine's tests will be skipped"; \
	else \
		echo "note: no npm, so no rp2040js: the CircuitPython engine needs Node.js 18+ and npm (Debian: apt-get install nodejs npm)"; \
	fi

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" && command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 or later is needed: none of" \
		"$(foreach v,$(PYTHON_VERSIONS),python$(v)) on PATH or in ~/.pyenv/versions (or set PYTHON=)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# CircuitPython's own mpy-cross, which `deploy` writes the badge's .mpy files with: built
# once (about 15 s) from CircuitPython's source into build/ (CIRCUITPYTHON_SRC=DIR for
# another source folder). With CIRCUITPY_MPY_CROSS=/path/to/mpy-cross nothing is built.
CIRCUITPYTHON_SRC ?= ../shared/circuitpython
MPY_CROSS := build/mpy-cross-10.2.1

mpy-cross: $(if $(CIRCUITPY_MPY_CROSS),,$(MPY_CROSS))

$(MPY_CROSS): | $(STAMP)
	@if test -f $(CIRCUITPYTHON_SRC)/build-mpy-cross.sh; then \
		echo "building CircuitPython's mpy-cross from $(CIRCUITPYTHON_SRC) (once, about 15 s)"; \
		PYTHON=$(abspath $(PY)) bash $(CIRCUITPYTHON_SRC)/build-mpy-cross.sh build >/dev/null; \
	else \
		echo "note: no CircuitPython source at $(CIRCUITPYTHON_SRC), so no mpy-cross: deploy needs one" \
			"(set CIRCUITPYTHON_SRC=DIR, or CIRCUITPY_MPY_CROSS=/path/to/mpy-cross; see docs/hardware-and-settings.md)"; \
	fi

# The badge page's front-end packages (uPlot, pinned by package-lock.json), served by the
# simulator itself: no CDN, no build step.
WEB_DIR := sim/web
WEB_STAMP := $(WEB_DIR)/node_modules/.installed

web-deps: $(if $(wildcard $(WEB_DIR)/package-lock.json),$(WEB_STAMP))

$(WEB_STAMP): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "the badge page needs npm for its plotting library" \
		"(Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed

# The browser tests drive Debian's Chromium with Playwright; install it if it is missing.
chromium:
	@test -x /usr/bin/chromium || { \
		echo "installing chromium (Debian package) for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The tests start a real mosquitto on a loopback port; install it if it is missing.
mosquitto:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
		echo "installing mosquitto (Debian package) for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto openssl >/dev/null; }

clean:
	rm -rf $(VENV) build *.egg-info $(NODE_DIR)/node_modules $(WEB_DIR)/node_modules
