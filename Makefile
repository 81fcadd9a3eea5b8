# Two commands for a newcomer: `make sim` and `make test`. Both set themselves up.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: sim test bench golden deps clean mosquitto

sim: $(STAMP)
	$(PY) -m sim

test: $(STAMP) mosquitto
	$(VENV)/bin/pytest

bench: $(STAMP)
	$(PY) -m sim bench

# Regenerate the pixel-exact golden frames in tests/golden/ after a deliberate UI change.
golden: $(STAMP)
	BADGE_UPDATE_GOLDEN=1 $(VENV)/bin/pytest

deps: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The tests start a real mosquitto on a loopback port; install it if it is missing.
mosquitto:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
		echo "installing mosquitto (Debian package) for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto openssl >/dev/null; }

clean:
	rm -rf $(VENV) build *.egg-info
