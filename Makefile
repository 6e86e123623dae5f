# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Each creates the virtual environment in .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DEMO_ARGS ?=
# The suite on one worker more than the machine has cores: the real-time tests run one after
# another on one worker, mostly waiting on their clocks, at a higher priority than the others
# (tests/conftest.py), and the other workers keep every core busy meanwhile.
WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST_ARGS ?= -n $(WORKERS) --dist loadgroup

# Debian packages: a CJK font for slips and overlays, Chromium for the browser tests,
# poppler-utils to read result slips back in the tests.
SYSTEM_PACKAGES ?= fonts-wqy-microhei chromium poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench translations clean system-packages

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: system-packages $(VENV)/.installed
	$(BIN)/examroom demo $(DEMO_ARGS)

# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE): every
# worker and every child process a test starts would otherwise compile the project and rewrite
# the test modules' asserts again, seconds each (.gitignore keeps __pycache__ out of git).
test: system-packages $(VENV)/.installed
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python bench/run_all.py

# After changing user-facing strings: the template from the code, the English catalogue updated
# from it (translate what it marks new or fuzzy), compiled. tests/web/test_i18n.py checks the rest.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d web/translations

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
