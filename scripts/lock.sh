#!/usr/bin/env bash
# Re-make constraints.txt: the exact version of every Python package, test tools included,
# that `scripts/bootstrap.sh` installs. Run it to take up new releases (security fixes among
# them), then run `make test` and commit constraints.txt with what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x .venv/bin/python ]] || { echo "Run scripts/bootstrap.sh first: lock.sh uses its Python." >&2; exit 1; }
python=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$python" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install -q --upgrade pip
"$scratch/venv/bin/python" -m pip install -q -e ".[test]"
{
  echo "# Every Python package at the version the test suite last passed with; scripts/bootstrap.sh"
  echo "# installs these (pip -c). Made by scripts/lock.sh from pyproject.toml: re-run it to update."
  "$scratch/venv/bin/python" -m pip freeze --exclude-editable
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages"
