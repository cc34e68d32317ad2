# Two commands do everything: `make run` and `make test` (see README).
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app cession_app
PYBABEL := $(VENV)/bin/pybabel
LANGS := pl cs de
SCALE ?= full

.PHONY: run test install lock upgrade-deps compile translations lint bench web worker clean checkers

# Installs are reproducible: exact versions with hashes from requirements-dev.lock (runtime
# and test tools; requirements.lock holds the runtime alone, for production). The lock files
# are written by pip-tools (`make lock`, `make upgrade-deps`) from pyproject.toml.
# --isolated: the machine's pip settings (extra indexes, find-links) do not apply.
PIP := $(PY) -m pip --isolated
$(VENV)/.installed: requirements-dev.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

compile: install
	@for lang in $(LANGS); do test -f translations/$$lang/LC_MESSAGES/messages.po || { echo "missing catalog: $$lang"; exit 1; }; done
	$(PYBABEL) compile -d translations --statistics

# Keywords beyond pybabel's defaults (_, gettext, ngettext, pgettext, ...); tests/i18n_support.py
# extracts with the same list (tests/test_catalogs.py checks that they agree).
EXTRACT_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2

# Extract Python, page and mail templates (.html, .txt) from the project root; merge into
# pl/cs/de (new strings arrive untranslated, similar ones fuzzy: translate and unfuzzy them,
# tests/test_catalogs.py fails until then); compile.
translations: install
	$(PYBABEL) extract -F translations/babel.cfg $(EXTRACT_KEYWORDS) --add-comments=TRANSLATORS: \
		--sort-by-file --no-wrap --project=cession -o translations/messages.pot .
	@for lang in $(LANGS); do \
		if [ -f translations/$$lang/LC_MESSAGES/messages.po ]; then \
			$(PYBABEL) update -d translations -i translations/messages.pot -l $$lang --no-wrap --ignore-obsolete --no-fuzzy-matching; \
		else \
			$(PYBABEL) init -d translations -i translations/messages.pot -l $$lang --no-wrap; \
		fi; \
	done
	$(PYBABEL) compile -d translations --statistics

.env:
	@echo "SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')" > .env
	@echo "SUPPORT_EMAIL=support@example.com" >> .env
	@echo "Wrote .env with a new SECRET_KEY and the demo's support address (change it)."

# The development mailbox (/dev/mailbox) is on here and nowhere else: DEV_MAILBOX=1.
run: compile .env
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Serving on http://127.0.0.1:5000 (log-ins in README). Ctrl+C stops web and worker."
	@echo "Mails without MAIL_SERVER: http://127.0.0.1:5000/dev/mailbox"
	@trap 'kill 0' INT TERM EXIT; export DEV_MAILBOX=1; \
		$(FLASK) worker & \
		$(VENV)/bin/gunicorn --bind 127.0.0.1:5000 --workers 2 --access-logfile - wsgi:app

# The page checkers the suite runs (tests/page_checks.py): the Nu HTML Checker (npm vnu-jar,
# needs Java: apt install default-jre-headless) and axe-core, exactly as package-lock.json says.
checkers: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test: compile
	$(VENV)/bin/ruff check cession_app tests bench
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check cession_app tests bench
	$(VENV)/bin/ruff format --check cession_app tests bench

# SCALE=quick (1k vs 10k services, < 2 min), full (1k vs 1M), or a number of services.
# Catalogs are compiled when they exist; the figures do not depend on them.
bench: install
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then $(MAKE) compile; fi
	$(PY) -m bench --scale $(SCALE)

# After a change to the dependencies in pyproject.toml: new packages are locked, the pins
# of the others are kept.
PIP_COMPILE = env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--index-url https://pypi.org/simple
lock: install
	$(PIP_COMPILE) $(LOCK_ARGS) -o requirements.lock pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) --extra test -o requirements-dev.lock pyproject.toml
	$(MAKE) install

# Every dependency to its newest release within pyproject.toml's ranges, then the suite.
upgrade-deps:
	$(MAKE) lock LOCK_ARGS=--upgrade
	$(MAKE) test

clean:
	rm -rf $(VENV) instance .pytest_cache
