.PHONY: run test test-unit test-integration test-browser bench check fix migrations lock

# Install everything and run the site on http://127.0.0.1:8000 (embedded mode).
run:
	scripts/run.sh

# Install everything and run the whole test suite (PostgreSQL, Redis, worker, SMTP).
test:
	scripts/test.sh

test-unit:
	scripts/test.sh -m "not integration"

test-integration:
	scripts/test.sh -m integration

# The real-browser tests alone (Debian's Chromium via Playwright, axe-core, Nu HTML Checker).
# Screenshots are written to test-artifacts/screenshots/.
test-browser:
	scripts/test.sh -m browser

# Benchmarks for issue #6 (about 6 minutes, loopback only): writes bench/results.md and .json.
bench:
	scripts/bootstrap.sh --test
	.venv/bin/python -m bench.run

check:
	scripts/bootstrap.sh --test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	DEBUG=true .venv/bin/python manage.py makemigrations --check --dry-run

fix:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

migrations:
	DEBUG=true .venv/bin/python manage.py makemigrations

# Take up new releases of the Python packages (security fixes among them) into constraints.txt;
# then run make test and commit it.
lock:
	scripts/lock.sh
