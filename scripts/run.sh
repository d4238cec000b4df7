#!/usr/bin/env bash
# Run the site in its embedded mode: SQLite, a Celery worker (and beat) on a broker that is a
# folder under var/, and emails written as .eml files to var/emails/. Nothing else to install.
set -euo pipefail
cd "$(dirname "$0")/.."
# What it writes under var/ (the database, the queue, the emails with their PDFs) holds
# patients' details: for this user alone, as the production units' UMask=0027 keeps them.
umask 077
scripts/bootstrap.sh

export DEBUG="${DEBUG:-true}"
export PORT="${PORT:-8000}"  # the settings build the site's address (SITE_URL) from it
py=.venv/bin/python

$py manage.py migrate --noinput -v0
$py manage.py load_factsheets
$py manage.py ensure_local_admin

mkdir -p var
.venv/bin/celery -A config worker --beat --pool=solo --loglevel=WARNING >var/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  The site:        http://127.0.0.1:${PORT}/
  Staff admin:     http://127.0.0.1:${PORT}/admin/  (user and password: var/admin-login.txt)
  Emails sent:     $(pwd)/var/emails/  (one .eml file each; open in any mail client)
  Worker log:      $(pwd)/var/worker.log
  Stop with Ctrl+C.

MSG
$py manage.py runserver "127.0.0.1:${PORT}"
