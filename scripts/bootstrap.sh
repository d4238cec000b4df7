#!/usr/bin/env bash
# Install everything this project needs on a fresh Debian 12 machine: system libraries for
# WeasyPrint, a Python >= 3.12 virtualenv in .venv and the Python packages.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

# --- System packages (WeasyPrint's Pango and HarfBuzz, fonts) ---------------------------------
# fonts-droid-fallback: Chinese, Japanese and Korean names in the PDF (DejaVu covers the rest).
apt_packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-droid-fallback)
if ((want_test)); then
  # Browser tests: Debian's Chromium (never Playwright's own download), Java for the Nu HTML
  # Checker, Node for the npm packages (axe-core, vnu-jar).
  apt_packages+=(chromium)
  command -v java >/dev/null 2>&1 || apt_packages+=(default-jre-headless)
  command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)
  # nginx: a test checks that it accepts the reference config in deploy/nginx.
  apt_packages+=(nginx)
fi
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> Installing system packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  # Debian starts a package's service on install (nginx on port 80); nothing here wants a
  # daemon left running, so Debian's policy-rc.d hook refuses service starts meanwhile.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    trap '$SUDO rm -f "$policy"' EXIT  # even if the install fails or is interrupted
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [[ " ${missing[*]} " == *" nginx "* && -d /run/systemd/system ]]; then
    $SUDO systemctl disable --quiet nginx  # nor at the next boot
  fi
fi

# --- Python >= 3.12 ---------------------------------------------------------------------------
find_python() {
  local candidates=()
  [[ -n "${PYTHON:-}" ]] && candidates+=("$PYTHON")
  for version in 3.13 3.12 3.14; do
    candidates+=("python$version")
    for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version"*/bin /opt/pyenv/versions/"$version"*/bin \
        /usr/local/bin /usr/bin; do
      [[ -x "$dir/python$version" ]] && candidates+=("$dir/python$version")
    done
  done
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
  if ! PY=$(find_python); then
    echo "Python 3.12 or newer is needed (Django 6.1); Debian 12 ships 3.11. Install one with" \
      "pyenv (outside any home folder for production, e.g. PYENV_ROOT=/opt/pyenv), or set" \
      "PYTHON=/path/to/python3.12, and run again." >&2
    exit 1
  fi
  echo "==> Creating .venv with $("$PY" --version)"
  rm -rf .venv
  "$PY" -m venv .venv
fi

# --- Python packages at the versions in constraints.txt, reinstalled when either file changes --
extras=""
((want_test)) && extras="[test]"
hash=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
stamp=".venv/.installed-${hash}${extras}"
if [[ ! -f "$stamp" && ! -f ".venv/.installed-${hash}[test]" ]]; then
  echo "==> Installing Python packages${extras:+ (with test tools)}"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".${extras}"
  touch "$stamp"
fi

# --- npm packages for the browser tests (axe-core, vnu-jar) -----------------------------------
if ((want_test)); then
  npm_stamp="node_modules/.installed-$(sha256sum package.json package-lock.json | sha256sum | cut -c1-16)"
  if [[ ! -f "$npm_stamp" ]]; then
    echo "==> Installing npm packages for the browser tests"
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
    touch "$npm_stamp"
  fi
fi
