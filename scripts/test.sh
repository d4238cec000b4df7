#!/usr/bin/env bash
# Install everything and run the whole test suite against the real services: PostgreSQL,
# Redis, a Celery worker process and an SMTP server on 127.0.0.1 (started by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
scripts/services.sh

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/spinal_clinic}"
export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}"
export CACHE_URL="${TEST_CACHE_URL:-redis://127.0.0.1:6379/12}"
# Tests that send mail start their own SMTP server and point EMAIL_URL at it; in-process
# tests use Django's locmem outbox.
export EMAIL_URL="${TEST_EMAIL_URL:-consolemail://}"
export SECRET_KEY="test-only-secret-key-not-for-production"
export DEBUG=false
export ALLOWED_HOSTS="testserver,127.0.0.1,localhost"
export SITE_URL="http://testserver"
export CLINIC_NOTIFY_EMAIL="triage@example.org"
export DEFAULT_FROM_EMAIL="Spinal Clinic <no-reply@example.org>"
export SECURE_SSL_REDIRECT=false
export VAR_DIR="${VAR_DIR:-$(pwd)/var/test}"
export STATIC_ROOT="$VAR_DIR/staticfiles"

.venv/bin/python manage.py collectstatic --noinput -v0
# Two test processes (pytest-xdist; the machine has two cores), each with its own PostgreSQL
# test database, Redis databases and VAR_DIR (tests/xdist_services.py). TEST_PROCESSES=0 runs
# the tests in this process alone; a later -n in "$@" wins too. worksteal: a process that
# runs out of tests takes some of the other's, as the slow integration tests come last.
exec .venv/bin/python -m pytest -p tests.xdist_services -n "${TEST_PROCESSES:-2}" --dist worksteal "$@"
